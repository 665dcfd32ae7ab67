/* dist_internal.hpp - what the process group's .cpp files share: the
 * sg_dist struct behind the opaque handle, the backend dispatch (Gloo, or
 * NCCL when the libtorch we build against has it) and the one wrapper
 * that turns a failed collective into a line naming the ranks.
 *
 * Private to models/dist_*.cpp.  SG_HAVE_NCCL is set by the Makefile only
 * when it builds against a CUDA libtorch whose include folder has
 * ProcessGroupNCCL.hpp and nccl.h is found; Debian's libtorch ships that
 * header too, but not the library behind it, so it is never set there.
 */
#ifndef SG_DIST_INTERNAL_HPP
#define SG_DIST_INTERNAL_HPP

#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#ifdef SG_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "models/torch_internal.hpp"

extern "C" {
#include "models/sg_dist.h"
}

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sg_dist_impl {
struct grad_sync; /* dist_grads.cpp: one step's overlapped all-reduce */
void grad_sync_free(grad_sync *s);
struct grad_sync_deleter {
    void operator()(grad_sync *s) const { grad_sync_free(s); }
};
} // namespace sg_dist_impl

struct sg_dist {
    int rank = 0, world = 1, local_rank = 0;
    double timeout_s = 300.0;
    size_t bucket_bytes = 25u << 20;
    /* Buckets go out while backward runs (false: all after it). */
    bool overlap = true;
    c10::intrusive_ptr<c10d::Store> store;
    /* Exactly one of these is set. */
    c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#ifdef SG_HAVE_NCCL
    c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
    /* Where collectives' tensors must live: the CPU for Gloo (which also
     * stages CUDA tensors through host memory), cuda:LOCAL_RANK for NCCL. */
    torch::Device comm_device{torch::kCPU};
    /* The gradient all-reduce of the step in progress (hooks armed). */
    std::unique_ptr<sg_dist_impl::grad_sync, sg_dist_impl::grad_sync_deleter> sync;
    /* Liveness for waits longer than any collective (sg_dist_wait_all):
     * a thread bumps "alive/<rank>" every second over its own store
     * connection, so a rank busy training still shows it is alive. */
    c10::intrusive_ptr<c10d::Store> beat_store;
    std::thread beat;
    std::mutex beat_mu;
    std::condition_variable beat_cv;
    bool beat_stop = false;

    ~sg_dist()
    {
        sync.reset(); /* waits for any all-reduce still in flight */
        if (beat.joinable()) {
            {
                std::lock_guard<std::mutex> lk(beat_mu);
                beat_stop = true;
            }
            beat_cv.notify_all();
            beat.join();
        }
    }
};

namespace sg_dist_impl {

double now_s();

/* Which other rank recorded a failure, if any ("" when none). */
std::string failed_peer(sg_dist *d);

/* Waits for every work even after a failure (so that no backend thread
 * still writes into a buffer about to be freed), then rethrows the first. */
void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>> &works);

/* The backend's collectives. */
c10::intrusive_ptr<c10d::Work> allreduce(sg_dist *d, std::vector<torch::Tensor> &v);
c10::intrusive_ptr<c10d::Work> broadcast(sg_dist *d, std::vector<torch::Tensor> &v);
c10::intrusive_ptr<c10d::Work> barrier(sg_dist *d);

/* Maps a failure of f() to SG_E_IO "lost rank P during WHAT: cause",
 * naming a rank that recorded its own failure when one did.  Messages
 * name other ranks only: the caller names its own (sg_dist.h). */
int collective_failed(sg_dist *d, const char *what, const std::exception &e);
/* Its message, for code that must throw it (sg::status_error) instead. */
std::string collective_message(sg_dist *d, const char *what, const std::exception &e);

template <typename F> int collective(sg_dist *d, const char *what, F &&f)
{
    try {
        f();
        return 0;
    } catch (const std::bad_alloc &) {
        return sg_fail(SG_E_NOMEM, "out of memory in %s", what);
    } catch (const std::exception &e) {
        return collective_failed(d, what, e);
    } catch (...) {
        return sg_fail(SG_E_IO, "unknown failure in %s", what);
    }
}

} // namespace sg_dist_impl

#endif
