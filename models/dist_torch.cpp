/* dist_torch.cpp - the process group and the split training step
 * (sg_dist.h) over libtorch's c10d: TCPStore + ProcessGroupGloo, or
 * ProcessGroupNCCL in a build against a CUDA libtorch that has it.  The
 * overlapped gradient all-reduce is dist_grads.cpp's.
 *
 * Failure handling: Gloo throws when a peer's socket closes (a killed
 * rank) or when an operation passes the group's timeout (a hung rank).
 * We turn that into SG_E_IO with "lost rank P ...: cause" (the caller
 * names its own rank, once, in front).  A rank that fails on its own
 * (bad input, NaN) first writes its message under "sg_failed/<rank>" in
 * the store, so the others can name it.
 */
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "models/dist_internal.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace sg_dist_impl {

double now_s()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/* Which other rank recorded a failure, if any (short store look-ups;
 * the store itself may be gone with rank 0). */
std::string failed_peer(sg_dist *d)
{
    try {
        for (int r = 0; r < d->world; r++) {
            if (r == d->rank)
                continue;
            std::string key = "sg_failed/" + std::to_string(r);
            if (d->store->check({key})) {
                std::vector<uint8_t> v = d->store->get(key);
                return "rank " + std::to_string(r) + " failed: " + std::string(v.begin(), v.end());
            }
        }
    } catch (...) {
    }
    return "";
}

std::string collective_message(sg_dist *d, const char *what, const std::exception &e)
{
    std::string cause = sg::first_line(e.what());
    if (const c10::Error *ce = dynamic_cast<const c10::Error *>(&e))
        cause = sg::first_line(ce->what_without_backtrace());
    std::string peer = failed_peer(d);
    if (!peer.empty())
        return peer + " during " + what + " (" + cause + ")";
    bool timed_out = cause.find("imed out") != std::string::npos ||
                     cause.find("imeout") != std::string::npos;
    std::string lost = d->world == 2 ? "rank " + std::to_string(1 - d->rank)
                                     : std::string("a peer rank");
    return "lost " + lost + " during " + what + ": " +
           (timed_out ? "it stopped answering within the process-group timeout"
                      : "its connection closed (the process died or exited)") +
           " (" + cause + ")";
}

int collective_failed(sg_dist *d, const char *what, const std::exception &e)
{
    return sg_fail(SG_E_IO, "%s", collective_message(d, what, e).c_str());
}

void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>> &works)
{
    std::exception_ptr first;
    for (auto &w : works) {
        try {
            if (w)
                w->wait();
        } catch (...) {
            if (!first)
                first = std::current_exception();
        }
    }
    if (first)
        std::rethrow_exception(first);
}

namespace {
std::chrono::milliseconds op_timeout(sg_dist *d)
{
    return std::chrono::milliseconds((int64_t)(d->timeout_s * 1000));
}
} // namespace

c10::intrusive_ptr<c10d::Work> allreduce(sg_dist *d, std::vector<torch::Tensor> &v)
{
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = op_timeout(d);
#ifdef SG_HAVE_NCCL
    if (d->nccl)
        return d->nccl->allreduce(v, o);
#endif
    return d->gloo->allreduce(v, o);
}

c10::intrusive_ptr<c10d::Work> broadcast(sg_dist *d, std::vector<torch::Tensor> &v)
{
    c10d::BroadcastOptions o;
    o.rootRank = 0;
    o.timeout = op_timeout(d);
#ifdef SG_HAVE_NCCL
    if (d->nccl)
        return d->nccl->broadcast(v, o);
#endif
    return d->gloo->broadcast(v, o);
}

c10::intrusive_ptr<c10d::Work> barrier(sg_dist *d)
{
    c10d::BarrierOptions o;
    o.timeout = op_timeout(d);
#ifdef SG_HAVE_NCCL
    if (d->nccl)
        return d->nccl->barrier(o);
#endif
    return d->gloo->barrier(o);
}

} // namespace sg_dist_impl

using namespace sg_dist_impl;

namespace {

torch::Tensor labels_on(sg_model *m, const int64_t *labels, int n)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->spec.n_classes)
            throw std::invalid_argument("label " + std::to_string(labels[i]) + " at index " +
                                        std::to_string(i) + " outside [0, " +
                                        std::to_string(m->spec.n_classes) + ")");
    return torch::from_blob(const_cast<int64_t *>(labels), {n}, torch::kInt64).to(m->device);
}

/* Parameters (is_param) or buffers of m, in state_dict order. */
std::vector<torch::Tensor> model_tensors(sg_model *m, bool params, bool buffers)
{
    std::vector<torch::Tensor> out;
    for (auto &nt : m->tensors)
        if ((nt.is_param && params) || (!nt.is_param && buffers))
            out.push_back(nt.t);
    return out;
}

/* Broadcasts ts from rank 0, packed per dtype into one flat tensor each. */
void broadcast_flat(sg_dist *d, std::vector<torch::Tensor> ts)
{
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> f32, i64;
    for (auto &t : ts)
        (t.scalar_type() == torch::kFloat32 ? f32 : i64).push_back(t);
    for (auto *group : {&f32, &i64}) {
        if (group->empty())
            continue;
        std::vector<torch::Tensor> flat_parts;
        for (auto &t : *group)
            flat_parts.push_back(t.detach().reshape({-1}).to(d->comm_device));
        std::vector<torch::Tensor> v{torch::cat(flat_parts)};
        broadcast(d, v)->wait();
        int64_t off = 0;
        for (auto &t : *group) {
            int64_t n = t.numel();
            t.copy_(v[0].narrow(0, off, n).view(t.sizes()));
            off += n;
        }
    }
}

} // namespace

extern "C" {

int sg_dist_create(sg_dist **out, const sg_dist_spec *spec)
{
    if (!out || !spec || !spec->master_addr)
        return sg_fail(SG_E_INVALID, "sg_dist_create: NULL argument");
    *out = nullptr;
    if (spec->world_size < 1 || spec->rank < 0 || spec->rank >= spec->world_size)
        return sg_fail(SG_E_INVALID, "rank %d is outside world size %d", spec->rank,
                       spec->world_size);
    if (spec->master_port < 1 || spec->master_port > 65535)
        return sg_fail(SG_E_INVALID, "master port %d outside 1..65535", spec->master_port);
    if (!(spec->timeout_s > 0))
        return sg_fail(SG_E_INVALID, "process-group timeout must be positive");
    /* auto: NCCL when the ranks train on CUDA and this build has it, as
     * PyTorch scripts choose; Gloo otherwise. */
    bool want_nccl = spec->backend && strcmp(spec->backend, "nccl") == 0;
    if (spec->backend && !want_nccl && strcmp(spec->backend, "gloo") != 0 &&
        strcmp(spec->backend, "auto") != 0)
        return sg_fail(SG_E_INVALID, "unknown process-group backend '%s' (auto, gloo or nccl)",
                       spec->backend);
#ifdef SG_HAVE_NCCL
    if (!spec->backend || strcmp(spec->backend, "auto") == 0)
        want_nccl = spec->cuda != 0;
    if (want_nccl && !spec->cuda)
        return sg_fail(SG_E_UNSUPPORTED,
                       "--dist-backend nccl needs the ranks on CUDA devices (--device cuda)");
#else
    if (want_nccl)
        return sg_fail(SG_E_UNSUPPORTED,
                       "this build has no NCCL (it was built against a libtorch without "
                       "ProcessGroupNCCL, such as Debian's); use --dist-backend gloo or build "
                       "with make LIBTORCH=/path/to/a/CUDA/libtorch");
#endif
    auto d = std::make_unique<sg_dist>();
    d->rank = spec->rank;
    d->world = spec->world_size;
    d->local_rank = spec->local_rank;
    d->timeout_s = spec->timeout_s;
    d->overlap = !spec->no_overlap;
    if (spec->bucket_mb > 0)
        d->bucket_bytes = (size_t)(spec->bucket_mb * 1024.0 * 1024.0);
    SG_TORCH_TRY(
        auto timeout = std::chrono::milliseconds((int64_t)(spec->timeout_s * 1000));
        c10d::TCPStoreOptions so;
        so.port = (uint16_t)spec->master_port;
        so.isServer = !spec->agent_store && spec->rank == 0;
        so.numWorkers = spec->agent_store ? c10::nullopt : c10::optional<size_t>(spec->world_size);
        so.waitWorkers = !spec->agent_store;
        so.timeout = timeout;
        so.multiTenant = true;
        c10::intrusive_ptr<c10d::Store> tcp;
        try {
            tcp = c10::make_intrusive<c10d::TCPStore>(spec->master_addr, so);
        } catch (const std::exception &e) {
            return sg_fail(SG_E_IO, "cannot reach the rendezvous at %s:%d within %gs: %s",
                           spec->master_addr, spec->master_port, spec->timeout_s,
                           sg::first_line(e.what()).c_str());
        }
        std::string prefix = spec->agent_store
                                 ? "/worker/attempt_" + std::to_string(spec->restart_count)
                                 : "sensorgram";
        d->store = c10::make_intrusive<c10d::PrefixStore>(prefix, tcp);
#ifdef SG_HAVE_NCCL
        if (want_nccl) {
            /* One GPU per local rank; NCCL's collectives then run on it. */
            d->comm_device = torch::Device(torch::kCUDA, (int8_t)spec->local_rank);
            auto nopts = c10d::ProcessGroupNCCL::Options::create();
            nopts->timeout = timeout;
            try {
                d->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(d->store, d->rank, d->world,
                                                                      nopts);
            } catch (const std::exception &e) {
                return sg_fail(SG_E_IO, "cannot form the NCCL group of %d ranks: %s",
                               d->world, sg::first_line(e.what()).c_str());
            }
        }
        if (!want_nccl) {
#else
        {
#endif
        auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
        /* Where Gloo listens: GLOO_SOCKET_IFNAME as in PyTorch, loopback
         * when the master is on loopback, else this host's own name. */
        const char *ifname = getenv("GLOO_SOCKET_IFNAME");
        bool loopback = strcmp(spec->master_addr, "127.0.0.1") == 0 ||
                        strcmp(spec->master_addr, "localhost") == 0;
        if (ifname && ifname[0])
            opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        else if (loopback)
            opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        opts->threads = 2;
        try {
            d->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(d->store, d->rank, d->world, opts);
        } catch (const std::exception &e) {
            return sg_fail(SG_E_IO, "cannot form the Gloo group of %d ranks: %s",
                           d->world, sg::first_line(e.what()).c_str());
        }
        }
        /* The heartbeat's own client connection to the same store. */
        c10d::TCPStoreOptions bo = so;
        bo.isServer = false;
        bo.numWorkers = c10::nullopt;
        bo.waitWorkers = false;
        d->beat_store = c10::make_intrusive<c10d::PrefixStore>(
            prefix, c10::make_intrusive<c10d::TCPStore>(spec->master_addr, bo));
        sg_dist *raw = d.get();
        d->beat = std::thread([raw] {
            std::string key = "alive/" + std::to_string(raw->rank);
            std::unique_lock<std::mutex> lk(raw->beat_mu);
            while (!raw->beat_stop) {
                try {
                    raw->beat_store->add(key, 1);
                } catch (...) {
                    /* the store went with rank 0: the waiters will say so */
                }
                raw->beat_cv.wait_for(lk, std::chrono::seconds(1));
            }
        });
        *out = d.release();
        return 0;)
}

void sg_dist_free(sg_dist *d)
{
    try {
        delete d;
    } catch (...) {
    }
}

int sg_dist_rank(const sg_dist *d)
{
    return d ? d->rank : 0;
}

int sg_dist_world_size(const sg_dist *d)
{
    return d ? d->world : 1;
}

int sg_dist_local_rank(const sg_dist *d)
{
    return d ? d->local_rank : 0;
}

void sg_dist_note_failure(sg_dist *d, const char *message)
{
    if (!d || !d->store)
        return;
    try {
        std::string msg = message ? message : "unknown error";
        d->store->set("sg_failed/" + std::to_string(d->rank),
                      std::vector<uint8_t>(msg.begin(), msg.end()));
    } catch (...) {
    }
}

int sg_dist_broadcast_model(sg_dist *d, sg_model *m)
{
    if (!d || !m)
        return sg_fail(SG_E_INVALID, "sg_dist_broadcast_model: NULL argument");
    return collective(d, "the broadcast of the initial weights",
                      [&] { broadcast_flat(d, model_tensors(m, true, true)); });
}

int sg_dist_broadcast_buffers(sg_dist *d, sg_model *m)
{
    if (!d || !m)
        return sg_fail(SG_E_INVALID, "sg_dist_broadcast_buffers: NULL argument");
    return collective(d, "the broadcast of BatchNorm buffers",
                      [&] { broadcast_flat(d, model_tensors(m, false, true)); });
}

int sg_dist_allreduce_sum(sg_dist *d, double *buf, size_t n)
{
    if (!d || (!buf && n))
        return sg_fail(SG_E_INVALID, "sg_dist_allreduce_sum: NULL argument");
    if (n == 0)
        return 0;
    return collective(d, "a metrics all-reduce", [&] {
        torch::Tensor host = torch::from_blob(buf, {(int64_t)n}, torch::kFloat64);
        std::vector<torch::Tensor> v{host.to(d->comm_device)};
        allreduce(d, v)->wait();
        host.copy_(v[0]);
    });
}

int sg_dist_allreduce_sum_f32(sg_dist *d, float *buf, size_t n)
{
    if (!d || (!buf && n))
        return sg_fail(SG_E_INVALID, "sg_dist_allreduce_sum_f32: NULL argument");
    if (n == 0)
        return 0;
    return collective(d, "a prediction all-reduce", [&] {
        torch::Tensor host = torch::from_blob(buf, {(int64_t)n}, torch::kFloat32);
        std::vector<torch::Tensor> v{host.to(d->comm_device)};
        allreduce(d, v)->wait();
        host.copy_(v[0]);
    });
}

int sg_dist_barrier(sg_dist *d)
{
    if (!d)
        return sg_fail(SG_E_INVALID, "sg_dist_barrier: NULL argument");
    return collective(d, "a barrier", [&] { barrier(d)->wait(); });
}

int sg_dist_wait_all(sg_dist *d, const char *tag)
{
    if (!d || !tag)
        return sg_fail(SG_E_INVALID, "sg_dist_wait_all: NULL argument");
    std::string done = std::string("wait/") + tag + "/";
    try {
        d->store->set(done + std::to_string(d->rank), std::vector<uint8_t>{'1'});
        std::vector<int64_t> last(d->world, -1);
        std::vector<double> since(d->world, now_s());
        for (;;) {
            bool all = true;
            for (int r = 0; r < d->world; r++) {
                if (r == d->rank || d->store->check({done + std::to_string(r)}))
                    continue;
                all = false;
                std::string peer = failed_peer(d);
                if (!peer.empty())
                    return sg_fail(SG_E_IO, "%s", peer.c_str());
                int64_t v = d->store->add("alive/" + std::to_string(r), 0);
                double t = now_s();
                if (v != last[r]) {
                    last[r] = v;
                    since[r] = t;
                } else if (t - since[r] > d->timeout_s) {
                    return sg_fail(SG_E_IO,
                                   "lost rank %d: no heartbeat for %gs (the process died "
                                   "or its machine is unreachable)",
                                   r, d->timeout_s);
                }
            }
            if (all)
                return 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    } catch (const std::exception &e) {
        return sg_fail(SG_E_IO,
                       "lost the rendezvous store (rank 0 or the launcher is gone): %s",
                       sg::first_line(e.what()).c_str());
    }
}

int sg_model_zero_grad(sg_model *m)
{
    if (!m)
        return sg_fail(SG_E_INVALID, "sg_model_zero_grad: NULL argument");
    SG_TORCH_TRY(
        for (auto &nt : m->tensors)
            if (nt.is_param)
                nt.t.mutable_grad() = torch::Tensor();
        return 0;)
}

int sg_model_accumulate_grad(sg_model *m, const float *x, int n, int c, int h, int w,
                             const int64_t *labels, double label_smoothing, double *loss)
{
    if (!m || !labels || !loss)
        return sg_fail(SG_E_INVALID, "sg_model_accumulate_grad: NULL argument");
    if (m->device.is_cuda() && m->spec.precision == SG_PRECISION_FP16)
        return sg_fail(SG_E_UNSUPPORTED,
                       "fp16 loss scaling does not combine with --accumulate or several ranks "
                       "(use --precision bf16)");
    SG_TORCH_TRY(
        torch::Tensor in = sg_input_tensor(m, x, n, c, h, w);
        torch::Tensor y = labels_on(m, labels, n);
        torch::Tensor out;
        {
            sg_autocast ac(m);
            out = m->net->forward(in);
        }
        torch::Tensor l = torch::nn::functional::cross_entropy(
            out.to(torch::kFloat32), y,
            torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
        *loss = l.item<double>();
        if (!std::isfinite(*loss))
            return sg_fail(SG_E_NUMERIC, "training loss is %g (diverged; lower the learning rate)",
                           *loss);
        l.backward();
        return 0;)
}

int sg_optim_step_accumulated(sg_optim *o, double divisor)
{
    if (!o || !(divisor > 0))
        return sg_fail(SG_E_INVALID, "sg_optim_step_accumulated: NULL optimizer or bad divisor");
    SG_TORCH_TRY(
        {
            torch::NoGradGuard no_grad;
            if (divisor != 1.0)
                for (auto &nt : o->model->tensors)
                    if (nt.is_param && nt.t.grad().defined())
                        nt.t.mutable_grad().div_(divisor);
        }
        o->opt->step();
        for (auto &nt : o->model->tensors)
            if (nt.is_param)
                nt.t.mutable_grad() = torch::Tensor();
        return 0;)
}

} // extern "C"
