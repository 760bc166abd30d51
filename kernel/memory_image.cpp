#include "kernel/memory_image.h"

#include <linux/futex.h>
#include <signal.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "entry/entry.h"
#include "kernel/kernel.h"
#include "kernel/kernel_lock.h"
#include "kernel/process.h"
#include "kernel/process_table.h"
#include "kernel/thread.h"

namespace myst::kernel {

uint64_t MemoryTurns::now_ns() {
    auto now = m_kernel.target().clock_time(CLOCK_MONOTONIC);
    if (now.is_error())
        return 0;
    return static_cast<uint64_t>(now.value().tv_sec) * 1'000'000'000ull +
           static_cast<uint64_t>(now.value().tv_nsec);
}

void MemoryTurns::changed(SpaceTurns& turns) {
    ++turns.changes;
    (void)m_kernel.target().futex(&turns.changes, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0,
                                  nullptr);
}

Result<std::shared_ptr<MemoryImage>> MemoryTurns::fork_image(Process& parent) {
    std::shared_ptr<MemoryImage>& parent_image = parent.image;
    uint64_t parked = TRY(m_kernel.memory().park_space(parent.space, true));
    if (!parent_image->turns) {
        parent_image->turns = std::make_shared<SpaceTurns>();
        parent_image->turns->space = parent.space;
        parent_image->turns->images.push_back(parent_image.get());
    }
    SpaceTurns& turns = *parent_image->turns;
    parent_image->parked = parked;
    parent_image->yield_to = nullptr;
    auto child = std::make_shared<MemoryImage>();
    child->turns = parent_image->turns;
    turns.images.push_back(child.get());
    turns.resident = child.get();
    turns.resident_since_ns = now_ns();
    changed(turns);
    return child;
}

void MemoryTurns::leave_image(Process& process) {
    drop_image(std::move(process.image));
}

std::shared_ptr<MemoryImage> MemoryTurns::enter_empty_image(Thread& thread, SpaceId space) {
    Process& process = thread.process();
    MemoryImage* holder = nullptr;
    if (process.space == space) {
        holder = process.image.get();
    } else {
        for (Process* other : m_kernel.processes().all()) {
            if (!other->ended && other->space == space && other->image) {
                holder = other->image.get();
                break;
            }
        }
    }
    if (!holder)
        return nullptr;
    if (!holder->turns) {  // alone in its space, so in the pages
        holder->turns = std::make_shared<SpaceTurns>();
        holder->turns->space = space;
        holder->turns->images.push_back(holder);
        holder->turns->resident = holder;
        holder->turns->resident_since_ns = now_ns();
    }
    auto empty = std::make_shared<MemoryImage>();
    empty->turns = holder->turns;
    empty->turns->images.push_back(empty.get());
    std::shared_ptr<MemoryImage> old_image = std::exchange(process.image, std::move(empty));
    // Nothing of this process runs in the image there now: unless another
    // process's threads run in it, it is handed over at once.
    ensure_resident(thread);
    return old_image;
}

void MemoryTurns::return_to_image(Thread& thread, std::shared_ptr<MemoryImage> old_image) {
    Process& process = thread.process();
    std::shared_ptr<MemoryImage> empty = std::exchange(process.image, std::move(old_image));
    drop_image(std::move(empty));
    ensure_resident(thread);
}

void MemoryTurns::drop_image(std::shared_ptr<MemoryImage> image) {
    if (!image || image.use_count() > 1 || !image->turns)
        return;
    std::shared_ptr<SpaceTurns> turns = image->turns;
    if (turns->resident == image.get()) {
        m_kernel.memory().vacate_space(turns->space);
        turns->resident = nullptr;
    } else if (image->parked != 0) {
        m_kernel.memory().forget_parked(image->parked);
    }
    std::erase(turns->images, image.get());
    for (MemoryImage* other : turns->images)
        if (other->yield_to == image.get())
            other->yield_to = nullptr;
    image->turns.reset();
    dissolve_if_alone(*turns);
    changed(*turns);
}

void MemoryTurns::dissolve_if_alone(SpaceTurns& turns) {
    if (turns.images.size() != 1 || turns.resident != turns.images.front())
        return;
    MemoryImage& last = *turns.images.front();
    turns.images.clear();
    last.yield_to = nullptr;
    last.turns.reset();  // `turns` lives on while a waiter holds it
}

void MemoryTurns::entered_kernel(Thread& thread) {
    MemoryImage& image = *thread.process().image;
    if (thread.in_program) {
        thread.in_program = false;
        --image.threads_in_program;
    }
    if (image.turns)
        ensure_resident(thread);
}

void MemoryTurns::returning_to_program(Thread& thread) {
    MemoryImage& image = *thread.process().image;
    if (image.turns)
        ensure_resident(thread);
    if (!thread.in_program) {
        thread.in_program = true;
        ++image.threads_in_program;
    }
}

void MemoryTurns::blocking(Thread& thread) {
    thread.in_host_wait = true;
    const std::shared_ptr<MemoryImage>& image = thread.process().image;
    if (image && image->turns && image->turns->waiting > 0 && all_in_host_waits(*image))
        changed(*image->turns);
}

void MemoryTurns::blocking_ended(Thread& thread) {
    thread.in_host_wait = false;
    ensure_resident(thread);
}

std::vector<Thread*> MemoryTurns::threads_of(const MemoryImage& image) {
    std::vector<Thread*> threads;
    for (Process* process : m_kernel.processes().all())
        if (process->image.get() == &image)
            for (auto& [tid, thread] : process->threads())
                threads.push_back(thread.get());
    return threads;
}

bool MemoryTurns::all_in_host_waits(const MemoryImage& image) {
    for (Thread* thread : threads_of(image))
        if (!thread->in_host_wait)
            return false;
    return true;
}

void MemoryTurns::ensure_resident(Thread& thread) {
    while (true) {
        MemoryImage& image = *thread.process().image;
        std::shared_ptr<SpaceTurns> turns = image.turns;
        if (!turns)
            return;
        MemoryImage* resident = turns->resident;
        if (resident == &image) {
            if (!image.yield_to)
                return;
            // Asked to give the pages up: the last thread in does it.
            if (image.threads_in_program == 0) {
                hand_over(*turns, image, *image.yield_to);
                continue;
            }
        } else if (!resident) {
            bring_in(*turns, image);
            return;
        } else if (all_in_host_waits(*resident)) {
            // Every thread of the image in the pages waits on the host
            // (not merely on its way back from its turn).
            if (hand_over(*turns, *resident, image))
                continue;
        } else if (!resident->yield_to && resident->threads_in_program > 0 &&
                   now_ns() - turns->resident_since_ns >= time_slice_ns) {
            ask_to_yield(*resident, image);
        }
        wait_for_change(turns);
    }
}

bool MemoryTurns::hand_over(SpaceTurns& turns, MemoryImage& from, MemoryImage& to) {
    from.yield_to = nullptr;
    auto parked = m_kernel.memory().park_space(turns.space, false);
    if (parked.is_error()) {
        // The budget cannot hold another copy now: the image in the pages
        // keeps them, and the other tries again after its next wait.
        if (!to.told_no_room)
            m_kernel.target().write_diagnostic(
                "myst: fork: no room in the memory budget (--memory-size) to switch processes");
        to.told_no_room = true;
        return false;
    }
    from.parked = parked.value();
    turns.resident = nullptr;
    bring_in(turns, to);
    return true;
}

void MemoryTurns::bring_in(SpaceTurns& turns, MemoryImage& image) {
    m_kernel.memory().unpark_space(image.parked);
    image.parked = 0;
    turns.resident = &image;
    turns.resident_since_ns = now_ns();
    changed(turns);
    dissolve_if_alone(turns);
}

void MemoryTurns::ask_to_yield(MemoryImage& resident, MemoryImage& requester) {
    resident.yield_to = &requester;
    for (Thread* thread : threads_of(resident))
        if (thread->in_program && thread->host_tid != 0)
            (void)m_kernel.target().thread_interrupt(thread->host_tid, entry::interrupt_signal);
}

void MemoryTurns::wait_for_change(const std::shared_ptr<SpaceTurns>& turns) {
    uint32_t seen = turns->changes;
    ++turns->waiting;
    struct timespec slice {
        0, static_cast<long>(time_slice_ns)
    };
    KernelLock& lock = m_kernel.lock();
    lock.release();
    (void)m_kernel.target().futex(&turns->changes, FUTEX_WAIT, seen, &slice, nullptr, 0, nullptr);
    lock.acquire();
    --turns->waiting;
}

BlockingScope::BlockingScope(Thread& thread) : m_thread(thread) {
    thread.kernel().memory_turns().blocking(thread);
    thread.kernel().lock().release();
    m_interrupts.emplace();
}

BlockingScope::~BlockingScope() {
    m_interrupts.reset();
    m_thread.kernel().lock().acquire();
    m_thread.kernel().memory_turns().blocking_ended(m_thread);
}

}  // namespace myst::kernel
