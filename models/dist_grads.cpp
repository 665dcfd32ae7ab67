/* dist_grads.cpp - the gradient all-reduce overlapped with backward
 * (sg_dist_grad_sync_begin/end in sg_dist.h): our own gradient hooks with
 * DDP's bucketing, not c10d::Reducer.
 *
 * Layout: the trainable parameters in reverse order (roughly the order
 * backward produces their gradients), cut into flat buckets of at most
 * bucket_bytes.  A hook on each parameter (called by its AccumulateGrad
 * node with the gradient summed over all its uses, before it is stored)
 * copies the gradient into its bucket's slot; when a bucket's last slot
 * is filled, it and any later buckets that are complete are launched as
 * asynchronous all-reduces, strictly in bucket order: collectives are
 * matched by the order they are issued, so every rank must issue the same
 * sequence whatever order its hooks fire in.  The backend's own threads
 * reduce a bucket while backward goes on with the earlier layers.
 *
 * Buckets and hooks live as long as the process group and are reused
 * every step while the trainable parameters stay the same (hooks act only
 * between begin and end); a phase that freezes or unfreezes stages gets
 * a new layout.
 *
 * The sums are those of the old after-backward all-reduce (same buckets,
 * same values), so 2 ranks still equal 1 process with --accumulate 2;
 * sg_dist_spec.no_overlap goes back to that (the hooks only fill the
 * buckets; end() launches them all), for machines where the backend's
 * threads would take the cores backward needs.
 */
#include "models/dist_internal.hpp"

#include <algorithm>
#include <atomic>
#include <exception>

namespace sg_dist_impl {

struct bucket {
    std::vector<torch::Tensor> params;
    std::vector<int64_t> offsets;
    std::vector<char> got;
    int pending = 0;
    std::vector<torch::Tensor> flat; /* one tensor, as the c10d API wants */
    c10::intrusive_ptr<c10d::Work> work;
    double launched_at = 0.0;
    /* Set by the work's completion callback, which may run after wait()
     * returns: shared so that it outlives the bucket. */
    std::shared_ptr<std::atomic<double>> done_at;
};

struct grad_sync {
    sg_dist *d = nullptr;
    /* The trainable parameters the layout was made for, in its order. */
    std::vector<const c10::TensorImpl *> key;
    std::vector<bucket> buckets;
    std::vector<std::pair<torch::Tensor, unsigned>> hooks;
    bool armed = false; /* between begin and end: the hooks act */
    size_t next = 0; /* first bucket not yet launched */
    std::mutex mu;   /* hooks may run on an autograd device thread */
    std::exception_ptr error; /* the first failure inside a hook */

    /* Waits for every launched bucket; rethrows the first failure. */
    void wait_launched()
    {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        for (auto &b : buckets)
            works.push_back(b.work);
        wait_all(works);
    }

    /* The state of a step about to start: nothing in, nothing sent. */
    void rearm()
    {
        std::lock_guard<std::mutex> lk(mu);
        for (auto &b : buckets) {
            std::fill(b.got.begin(), b.got.end(), 0);
            b.pending = (int)b.params.size();
            b.work.reset();
            b.launched_at = 0.0;
            b.done_at.reset();
        }
        next = 0;
        error = nullptr;
        armed = true;
    }

    void remove_hooks()
    {
        for (auto &h : hooks)
            h.first.remove_hook(h.second);
        hooks.clear();
    }

    ~grad_sync()
    {
        try {
            remove_hooks();
            wait_launched();
        } catch (...) {
            /* freeing after a failure that end() has reported already */
        }
    }
};

void grad_sync_free(grad_sync *s)
{
    delete s;
}

namespace {

/* Launches every complete bucket from s->next on, in order (under s->mu). */
void launch_ready(grad_sync *s)
{
    while (s->next < s->buckets.size() && s->buckets[s->next].pending == 0) {
        bucket &b = s->buckets[s->next++];
        b.launched_at = now_s();
        b.work = allreduce(s->d, b.flat);
        auto done = std::make_shared<std::atomic<double>>(0.0);
        b.done_at = done;
        try {
            b.work->getFuture()->addCallback(
                [done](c10::ivalue::Future &) { done->store(now_s()); });
        } catch (...) {
            /* a backend without futures: end() times the wait instead */
        }
    }
}

void on_grad(grad_sync *s, size_t bi, size_t j, const torch::Tensor &g)
{
    try {
        std::lock_guard<std::mutex> lk(s->mu);
        if (!s->armed)
            return; /* a backward outside a data-parallel step */
        bucket &b = s->buckets[bi];
        if (b.got[j])
            throw std::logic_error("a parameter's gradient arrived twice in one step (two "
                                   "backward passes under one gradient all-reduce)");
        int64_t n = b.params[j].numel();
        b.flat[0].narrow(0, b.offsets[j], n).copy_(g.reshape({-1}));
        b.got[j] = 1;
        b.pending--;
        /* Without overlap, sg_dist_grad_sync_end launches them all. */
        if (s->d->overlap)
            launch_ready(s);
    } catch (...) {
        std::lock_guard<std::mutex> lk(s->mu);
        if (!s->error)
            s->error = std::current_exception();
    }
}

} // namespace

} // namespace sg_dist_impl

using namespace sg_dist_impl;

extern "C" {

int sg_dist_grad_sync_begin(sg_dist *d, sg_model *m)
{
    if (!d || !m)
        return sg_fail(SG_E_INVALID, "sg_dist_grad_sync_begin: NULL argument");
    if (d->sync && d->sync->armed)
        return sg_fail(SG_E_INVALID, "sg_dist_grad_sync_begin: the last step's all-reduce is "
                                     "still armed");
    SG_TORCH_TRY(
        std::vector<torch::Tensor> params;
        std::vector<const c10::TensorImpl *> key;
        for (auto it = m->tensors.rbegin(); it != m->tensors.rend(); ++it)
            if (it->is_param && it->t.requires_grad()) {
                params.push_back(it->t);
                key.push_back(it->t.unsafeGetTensorImpl());
            }
        /* The same trainable parameters as the last step: keep the buckets
         * and hooks (DDP keeps its buckets too; libtorch only blanks a
         * removed hook, so registering anew every step would grow each
         * parameter's hook list without end). */
        if (d->sync && d->sync->key == key) {
            d->sync->rearm();
            return 0;
        }
        d->sync.reset(); /* a phase froze or unfroze stages: lay out anew */
        auto s = std::make_unique<grad_sync>();
        s->d = d;
        s->key = key;
        size_t bytes = 0;
        for (auto &p : params) {
            size_t b = (size_t)p.numel() * sizeof(float);
            if (s->buckets.empty() || bytes + b > d->bucket_bytes) {
                s->buckets.emplace_back();
                bytes = 0;
            }
            bucket &bk = s->buckets.back();
            bk.offsets.push_back((int64_t)(bytes / sizeof(float)));
            bk.params.push_back(p);
            bk.got.push_back(0);
            bytes += b;
        }
        for (auto &bk : s->buckets) {
            int64_t total = bk.offsets.back() + bk.params.back().numel();
            bk.flat.push_back(torch::empty(
                {total}, torch::TensorOptions().dtype(torch::kFloat32).device(d->comm_device)));
        }
        grad_sync *raw = s.get();
        for (size_t bi = 0; bi < s->buckets.size(); bi++)
            for (size_t j = 0; j < s->buckets[bi].params.size(); j++) {
                torch::Tensor p = s->buckets[bi].params[j];
                unsigned id = p.register_hook(
                    [raw, bi, j](const torch::Tensor &g) { on_grad(raw, bi, j, g); });
                s->hooks.emplace_back(p, id);
            }
        s->rearm();
        d->sync.reset(s.release());
        return 0;)
}

int sg_dist_grad_sync_end(sg_dist *d, sg_model *m, int failed, sg_dist_comm_time *t)
{
    if (t)
        *t = sg_dist_comm_time{0.0, 0.0};
    if (!d || !m)
        return sg_fail(SG_E_INVALID, "sg_dist_grad_sync_end: NULL argument");
    if (!d->sync || !d->sync->armed)
        return failed ? 0 : sg_fail(SG_E_INVALID, "sg_dist_grad_sync_end: nothing armed");
    grad_sync *s = d->sync.get();
    double t_backward = now_s();
    {
        std::lock_guard<std::mutex> lk(s->mu);
        s->armed = false; /* no hook acts from here on */
    }
    if (failed) {
        /* The caller reports its own error: wait for what was launched
         * (the buckets are reused), say nothing. */
        try {
            s->wait_launched();
        } catch (...) {
        }
        return 0;
    }
    double t_waited = t_backward;
    int rc = collective(d, "the gradient all-reduce", [&] {
        torch::NoGradGuard no_grad;
        {
            std::lock_guard<std::mutex> lk(s->mu);
            if (s->error)
                std::rethrow_exception(s->error);
            /* Zeros for parameters backward gave no gradient, so that
             * every rank sends the same layout. */
            for (auto &b : s->buckets)
                for (size_t j = 0; j < b.params.size(); j++)
                    if (!b.got[j]) {
                        b.flat[0].narrow(0, b.offsets[j], b.params[j].numel()).zero_();
                        b.got[j] = 1;
                        b.pending--;
                    }
            launch_ready(s);
        }
        s->wait_launched();
        t_waited = now_s();
        for (auto &b : s->buckets)
            for (size_t j = 0; j < b.params.size(); j++) {
                torch::Tensor &p = b.params[j];
                if (!p.grad().defined())
                    p.mutable_grad() = torch::zeros_like(p);
                p.mutable_grad().copy_(
                    b.flat[0].narrow(0, b.offsets[j], p.numel()).view(p.sizes()));
            }
    });
    double t_done = now_s();
    if (t && rc == SG_OK && !s->buckets.empty()) {
        double first = s->buckets.front().launched_at, last = 0.0;
        for (auto &b : s->buckets) {
            double at = b.done_at ? b.done_at->load() : 0.0;
            first = std::min(first, b.launched_at);
            last = std::max(last, at > 0.0 ? at : t_waited);
        }
        t->span_s = last > first ? last - first : 0.0;
        t->exposed_s = t_done - t_backward;
    }
    if (rc) {
        /* wait for whatever did go out before the buckets are reused */
        try {
            s->wait_launched();
        } catch (...) {
        }
    }
    return rc;
}

} // extern "C"
