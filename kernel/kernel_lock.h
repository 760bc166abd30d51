// The kernel lock and the rule for blocking.
//
// Lock order (outermost first; never take an outer lock while holding an
// inner one):
//   1. KernelLock: held by a program thread for as long as it runs kernel
//      code (a syscall or a fault, from the entry until the return to the
//      program). It guards every piece of kernel state a syscall reaches:
//      processes and their threads, descriptor tables, the VFS and its file
//      systems, the memory manager, strace.
//   2. Leaf locks inside layers (the block caches' mutexes): taken and
//      released within one call, never held while waiting for lock 1.
// A thread never waits on the host (futex, sleep, a host stream that may
// block) while holding the kernel lock: such a wait runs inside a
// BlockingScope, which lets the lock go and takes it back afterwards, so
// everything the caller read before the scope must be read again after it.
// Only there is the interrupt signal (SIGURG, entry/entry.h) unblocked: a
// signal sent to a thread running kernel code ends its host wait, or is taken
// after the return to the program, never lost on the way out.
//
// NOTE: one lock for the whole kernel is the first step of concurrency (as
// Linux's big kernel lock was): program code runs in parallel on every
// thread, and only kernel work is serialized. Finer locks replace it family
// by family, each documented here.
#pragma once

#include <mutex>
#include <optional>

#include "entry/entry.h"

namespace myst::kernel {

class KernelLock {
public:
    void acquire() { m_mutex.lock(); }
    void release() { m_mutex.unlock(); }
    std::mutex& mutex() { return m_mutex; }

private:
    std::mutex m_mutex;
};

// Holds the kernel lock for one kernel entry (syscall or fault).
class KernelEntryScope {
public:
    explicit KernelEntryScope(KernelLock& lock) : m_lock(lock) { m_lock.acquire(); }
    ~KernelEntryScope() { m_lock.release(); }
    KernelEntryScope(const KernelEntryScope&) = delete;
    KernelEntryScope& operator=(const KernelEntryScope&) = delete;

private:
    KernelLock& m_lock;
};

class Thread;

// Lets the kernel lock go for a host wait of `thread`; takes it back at the
// end, and waits for the thread's memory image to be in the pages again
// (kernel/memory_image.h: another process of its space may have had them
// meanwhile), so the caller may touch program memory after it as before.
class BlockingScope {
public:
    explicit BlockingScope(Thread& thread);
    ~BlockingScope();
    BlockingScope(const BlockingScope&) = delete;
    BlockingScope& operator=(const BlockingScope&) = delete;

private:
    Thread& m_thread;
    // The host wait inside may be ended by another thread's interrupt.
    std::optional<entry::InterruptWindow> m_interrupts;
};

}  // namespace myst::kernel
