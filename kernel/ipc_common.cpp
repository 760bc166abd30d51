#include "kernel/ipc_common.h"

#include <linux/futex.h>

#include <algorithm>
#include <climits>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/thread.h"

namespace myst::kernel {

bool IpcCaller::in_group(gid_t gid) const {
    return gid == egid || std::find(groups.begin(), groups.end(), gid) != groups.end();
}

IpcCaller ipc_caller(Thread& thread) {
    const Credentials& credentials = thread.process().credentials();
    IpcCaller caller;
    caller.euid = credentials.euid;
    caller.egid = credentials.egid;
    caller.groups = credentials.groups;
    caller.pid = thread.process().pid();
    auto now = thread.kernel().target().clock_time(CLOCK_REALTIME);
    caller.now = now.is_error() ? 0 : now.value().tv_sec;
    return caller;
}

bool ipc_permitted(const struct ipc_perm& perm, const IpcCaller& caller, int flag) {
    int requested = (flag >> 6) | (flag >> 3) | flag;
    int granted = perm.mode;
    if (caller.euid == perm.cuid || caller.euid == perm.uid)
        granted >>= 6;
    else if (caller.in_group(perm.cgid) || caller.in_group(perm.gid))
        granted >>= 3;
    return !(requested & ~granted & 0007) || caller.privileged();
}

bool ipc_may_change(const struct ipc_perm& perm, const IpcCaller& caller) {
    return caller.euid == perm.uid || caller.euid == perm.cuid || caller.privileged();
}

void ipc_set_owner(struct ipc_perm& perm, const struct ipc_perm& wanted) {
    perm.uid = wanted.uid;
    perm.gid = wanted.gid;
    perm.mode = static_cast<unsigned short>((perm.mode & ~0777) | (wanted.mode & 0777));
}

void ipc_init_perm(struct ipc_perm& perm, key_t key, int flags, const IpcCaller& caller) {
    perm = {};
    perm.__key = key;
    perm.uid = perm.cuid = caller.euid;
    perm.gid = perm.cgid = caller.egid;
    perm.mode = static_cast<unsigned short>(flags & 0777);
}

void ChangeWord::changed(Target& target) {
    m_word.fetch_add(1);
    (void)target.futex(reinterpret_cast<uint32_t*>(&m_word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
                       INT_MAX, nullptr, nullptr, 0, nullptr);
}

Result<bool> ChangeWord::wait(Thread& thread, uint32_t seen,
                              const std::optional<struct timespec>& deadline) {
    struct timespec left {};
    if (deadline) {
        left = time_until(*deadline, monotonic_now(thread));
        if (left.tv_sec == 0 && left.tv_nsec == 0)
            return false;
    }
    const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
    auto woken = [&] {
        BlockingScope waiting(thread);
        return thread.kernel().target().futex(reinterpret_cast<uint32_t*>(&m_word),
                                              FUTEX_WAIT | FUTEX_PRIVATE_FLAG, seen,
                                              deadline ? &left : nullptr, nullptr, 0, interrupted);
    }();
    if (woken.is_error()) {
        int code = woken.error().code();
        if (code == EINTR && wait_must_end(thread))
            return Error(EINTR, "interrupted by a signal");
        if (code == ETIMEDOUT)
            return !deadline || time_before(monotonic_now(thread), *deadline);
    }
    return true;
}

}  // namespace myst::kernel
