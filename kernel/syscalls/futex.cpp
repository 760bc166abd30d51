// Futexes. Program memory is host memory in one address space, so the
// host's futex serves every operation on it directly (DESIGN.md decision 6);
// the kernel checks the addresses and lets its lock go while a thread waits.
#include <linux/futex.h>

#include "kernel/kernel.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

Result<uint32_t*> futex_word(Thread& thread, uint64_t address) {
    if (address % 4 != 0)
        return Error(EINVAL, "futex address not aligned");
    if (!thread.kernel().memory_accessible(address, 4))
        return Error(EFAULT, "bad futex address");
    return reinterpret_cast<uint32_t*>(address);
}

}  // namespace

// Futex implements Linux syscall futex(2): WAIT, WAKE, REQUEUE, CMP_REQUEUE,
// WAKE_OP and the bitset forms, private or shared, on either clock. The
// priority-inheritance operations name thread ids the host does not know:
// ENOSYS, as on a kernel built without them.
Result<long> sys_futex(Thread& thread, const SyscallArgs& args) {
    uint32_t* word = TRY(futex_word(thread, args.address(0)));
    int operation = args.integer(1);
    auto value = static_cast<uint32_t>(args.raw[2]);
    auto value3 = static_cast<uint32_t>(args.raw[5]);
    Target& target = thread.kernel().target();
    switch (operation & FUTEX_CMD_MASK) {
        case FUTEX_WAIT:
        case FUTEX_WAIT_BITSET: {
            struct timespec timeout {};
            bool has_timeout = args.address(3) != 0;
            if (has_timeout)
                timeout = TRY(read_user<struct timespec>(thread, args.address(3)));
            const uint8_t* interrupted = TRY(begin_interruptible_wait(thread));
            auto waited = [&] {
                BlockingScope waiting(thread);
                return target.futex(word, operation, value, has_timeout ? &timeout : nullptr,
                                    nullptr, value3, interrupted);
            }();
            // Between letting the kernel lock go and the host reading the
            // word, the pages may have gone aside for another image's turn
            // (kernel/memory_image.h): the host saw no word there. They are
            // back now; as a changed word, the caller looks again.
            if (waited.is_error() && waited.error().code() == EFAULT &&
                thread.kernel().memory_accessible(args.address(0), 4))
                return Error(EAGAIN, "the futex word was away for another image's turn");
            return waited;
        }
        case FUTEX_WAKE:
        case FUTEX_WAKE_BITSET:
            return target.futex(word, operation, value, nullptr, nullptr, value3, nullptr);
        case FUTEX_REQUEUE:
        case FUTEX_CMP_REQUEUE:
        case FUTEX_WAKE_OP: {
            // The timeout slot carries a second count (val2) here.
            uint32_t* word2 = TRY(futex_word(thread, args.address(4)));
            auto count2 = reinterpret_cast<const struct timespec*>(args.raw[3]);
            return target.futex(word, operation, value, count2, word2, value3, nullptr);
        }
        default:
            return Error(ENOSYS, "futex operation not served");
    }
}

}  // namespace myst::kernel
