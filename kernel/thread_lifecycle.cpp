#include "kernel/thread_lifecycle.h"

#include <linux/futex.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "entry/entry.h"
#include "kernel/kernel.h"
#include "kernel/memory_image.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/process_timers.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscall_restart.h"
#include "kernel/syscall_table.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// The entry's callback: one trapped syscall of a program thread, served
// under the kernel lock. A signal that became deliverable meanwhile (sent
// by another thread) runs its handler on the way out.
long handle_syscall(void* thread_pointer, long number, const uint64_t arguments[6],
                    ucontext_t* context) {
    Thread& thread = *static_cast<Thread*>(thread_pointer);
    SyscallArgs args;
    for (int i = 0; i < 6; ++i)
        args.raw[i] = arguments[i];
    KernelEntryScope held(thread.kernel().lock());
    thread.context = context;
    MemoryTurns& turns = thread.kernel().memory_turns();
    turns.entered_kernel(thread);
    end_thread_if_asked(thread);
    long result = dispatch_syscall(thread, number, args);
    end_thread_if_asked(thread);
    result = restart_if_interrupted(thread, number, args, result);
    if (pending_signals_of(thread) & ~thread.signal_mask) {
        // The handler's frame must hold the syscall's result.
        context->uc_mcontext.gregs[REG_RAX] = result;
        if (!deliver_pending_signals(thread).is_error())
            result = context->uc_mcontext.gregs[REG_RAX];
    }
    turns.returning_to_program(thread);
    thread.context = nullptr;
    return result;
}

// The entry's callback for a fault in program code: the program's handler
// runs, or the fault ends the process with 128+signal. The interrupt
// signal (another thread posted a signal) runs the pending handlers.
void handle_fault(void* thread_pointer, int signal, siginfo_t* info, ucontext_t* context) {
    Thread& thread = *static_cast<Thread*>(thread_pointer);
    KernelEntryScope held(thread.kernel().lock());
    thread.context = context;
    MemoryTurns& turns = thread.kernel().memory_turns();
    turns.entered_kernel(thread);
    end_thread_if_asked(thread);
    if (signal == entry::interrupt_signal)
        (void)deliver_pending_signals(thread);
    else if (raise_signal(thread, signal, *info, true).is_error())
        terminate_process(thread, signaled_status(signal));
    turns.returning_to_program(thread);
    thread.context = nullptr;
}

// robust_list_head and the owner-died protocol (Linux's
// Documentation/locking/robust-futexes.rst).
struct RobustListHead {
    uint64_t next;
    int64_t futex_offset;
    uint64_t pending;
};
constexpr int robust_list_limit = 2048;  // as Linux's ROBUST_LIST_LIMIT

void wake_futex_word(Thread& thread, uint64_t address, int count) {
    auto* word = reinterpret_cast<uint32_t*>(address);
    (void)thread.kernel().target().futex(word, FUTEX_WAKE, static_cast<uint32_t>(count), nullptr,
                                         nullptr, 0, nullptr);
}

// A lock the dead thread held: mark it owner-died and wake one waiter.
void release_robust_futex(Thread& thread, uint64_t entry, int64_t offset) {
    uint64_t address = entry + static_cast<uint64_t>(offset);
    if (address % 4 != 0 || !thread.kernel().memory_accessible(address, 4))
        return;
    auto* word = reinterpret_cast<uint32_t*>(address);
    uint32_t value = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    while ((value & FUTEX_TID_MASK) == static_cast<uint32_t>(thread.tid())) {
        uint32_t died = (value & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (__atomic_compare_exchange_n(word, &value, died, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            if (value & FUTEX_WAITERS)
                wake_futex_word(thread, address, 1);
            return;
        }
    }
}

void release_robust_list(Thread& thread) {
    if (thread.robust_list == 0)
        return;
    auto head = read_user<RobustListHead>(thread, thread.robust_list);
    if (head.is_error())
        return;
    uint64_t entry = head.value().next;
    for (int i = 0; i < robust_list_limit && entry != thread.robust_list && entry != 0; ++i) {
        auto next = read_user<uint64_t>(thread, entry);
        if (next.is_error())
            break;
        if (entry != head.value().pending)
            release_robust_futex(thread, entry, head.value().futex_offset);
        entry = next.value();
    }
    if (head.value().pending != 0)
        release_robust_futex(thread, head.value().pending, head.value().futex_offset);
}

// What Linux does for a thread that is gone: its robust locks are released,
// its CLONE_CHILD_CLEARTID word is zeroed and woken (pthread_join), and it
// leaves its process; the last one ends the process, whose timers the
// caller destroys without the kernel lock. Called with the kernel lock held.
std::unique_ptr<ProcessTimers> finish_thread(Thread& thread) {
    release_robust_list(thread);
    if (thread.clear_child_tid != 0 &&
        thread.kernel().memory_accessible(thread.clear_child_tid, 4)) {
        __atomic_store_n(reinterpret_cast<uint32_t*>(thread.clear_child_tid), 0u, __ATOMIC_SEQ_CST);
        wake_futex_word(thread, thread.clear_child_tid, 1);
    }
    Process& process = thread.process();
    process.threads().erase(thread.tid());  // `thread` is gone from here on
    if (!process.threads().empty())
        return nullptr;
    process.threads_gone.notify_all();
    return end_process(thread.kernel(), process);  // `process` may be gone from here on
}

Result<std::unique_ptr<entry::ProgramThread>> make_program_thread(Thread& thread) {
    thread.host_tid = thread.kernel().target().thread_host_id();
    return entry::ProgramThread::create(&thread, handle_syscall, handle_fault,
                                        thread.kernel().config().fs_switch);
}

// The body of a cloned thread's host thread.
void run_cloned_thread(Thread& thread, ucontext_t start, uint64_t program_fs) {
    KernelLock& lock = thread.kernel().lock();
    MemoryTurns& turns = thread.kernel().memory_turns();
    lock.acquire();
    auto program_thread = make_program_thread(thread);
    if (!program_thread.is_error())
        turns.returning_to_program(thread);
    lock.release();
    if (!program_thread.is_error()) {
        program_thread.value()->state().program_fs = program_fs;
        program_thread.value()->run_context(start);
    }
    std::unique_lock held(lock.mutex());
    // Its last words go to its own memory (robust list, clear_child_tid).
    turns.ensure_resident(thread);
    std::unique_ptr<ProcessTimers> timers = finish_thread(thread);
    held.unlock();
}

}  // namespace

Result<int> run_first_thread(Thread& thread, uint64_t entry_point, uint64_t stack_pointer) {
    Process& process = thread.process();
    KernelLock& lock = thread.kernel().lock();
    MemoryTurns& turns = thread.kernel().memory_turns();
    auto program_thread = TRY(make_program_thread(thread));
    {
        std::lock_guard starting(lock.mutex());
        turns.returning_to_program(thread);
    }
    int status = program_thread->run(entry_point, stack_pointer);
    if (status < 0)
        return Error(-status, "cannot start syscall user dispatch");
    std::unique_lock held(lock.mutex());
    turns.ensure_resident(thread);
    std::unique_ptr<ProcessTimers> timers = finish_thread(thread);
    // exit(2) of the first thread leaves the process running until its
    // last thread ends.
    process.threads_gone.wait(held, [&] { return process.threads().empty(); });
    int wait_status = process.wait_status;
    held.unlock();
    return host_exit_code(wait_status);
}

Result<pid_t> start_thread(Thread& creator, const ThreadStart& start, Process* new_process) {
    Kernel& kernel = creator.kernel();
    Process& process = new_process ? *new_process : creator.process();
    if (process.threads().size() >= kernel.config().max_threads)
        return Error(EAGAIN, "too many threads");
    if (!creator.context)
        return Error(EINVAL, "no creator context");
    pid_t tid = new_process ? new_process->pid() : kernel.allocate_pid();
    auto owned = std::make_unique<Thread>(kernel, process, tid);
    Thread& thread = *owned;
    thread.signal_mask = creator.signal_mask;
    thread.name = creator.name;
    thread.cpu_affinity = creator.cpu_affinity;
    thread.clear_child_tid = start.clear_tid_address;
    if (start.parent_tid_address)
        TRY(write_user(creator, start.parent_tid_address, static_cast<int32_t>(tid)));
    if (start.child_tid_address)
        TRY(write_user(creator, start.child_tid_address, static_cast<int32_t>(tid)));

    ucontext_t context = *creator.context;
    context.uc_mcontext.gregs[REG_RAX] = 0;  // clone returns 0 in the new thread
    if (start.stack_pointer)
        context.uc_mcontext.gregs[REG_RSP] = static_cast<greg_t>(start.stack_pointer);
    uint64_t program_fs = start.set_tls ? start.tls : entry::current_entry_state().program_fs;

    process.threads().emplace(tid, std::move(owned));
    auto started = kernel.target().thread_start(
        [&thread, context, program_fs] { run_cloned_thread(thread, context, program_fs); });
    if (started.is_error()) {
        process.threads().erase(tid);
        return Error(EAGAIN, "cannot start a host thread");
    }
    return tid;
}

void exit_thread(Thread& thread, int code) {
    Process& process = thread.process();
    thread.exit_started = true;
    // The status of a process whose threads all called exit(2) is its
    // first thread's exit code.
    if (thread.tid() == process.pid() && !process.dying)
        process.wait_status = exited_status(code);
    thread.kernel().lock().release();
    entry::leave_program(code);
}

void terminate_process(Thread& thread, int wait_status) {
    Process& process = thread.process();
    thread.exit_started = true;
    end_process_threads(thread.kernel(), process, wait_status);
    thread.kernel().lock().release();
    entry::leave_program(host_exit_code(wait_status));
}

void end_thread_if_asked(Thread& thread) {
    if (thread.exit_requested && !thread.exit_started)
        exit_thread(thread, 0);
}

}  // namespace myst::kernel
