// Taking turns on the pages: fork(2) in the one address space (DESIGN
// decision 4, ForkMode "pseudo").
//
// A child of fork must see its own copy of its parent's private memory, at
// the same addresses, while both keep running. One address space holds one
// copy at a time, so the processes of a space take turns: each has a
// MemoryImage, and only the image "in the pages" (resident) runs program
// code; the others are parked (their mappings and bytes saved by
// MemoryManager::park_space, their address ranges kept free of others).
//
// - fork: the parent's image is parked as it is (the saved copy is the
//   parent's memory at fork) and the child goes on in the pages.
// - A thread may run program code, or kernel code that touches program
//   memory, only while its image is resident. It checks at every kernel
//   entry and return to the program, and after every host wait
//   (BlockingScope): a parked image waits for its turn there.
// - The turn passes when every thread of the resident image waits on the
//   host (wait4, read on a pipe, a futex...: a BlockingScope), or
//   when it has run for a time slice while another image waited: then its
//   threads are interrupted, and the last one into the kernel hands the
//   pages over.
// - exec of a fixed-address program whose range a space holds (its own: a
//   program starting itself, Debian's python3, which is not PIE, starting
//   python3 from a vfork or fork child; another's: a shell that python3
//   started running python3): the process leaves its image for a new,
//   empty image of that space, which takes turns with the others there as
//   a forked image does; the program is loaded into it.
// - An image ends with the last process using it (exec or exit): its pages
//   or its parked copy go back, and a waiting image comes in.
// Processes that share memory (threads, vfork and CLONE_VM children) share
// one image. MAP_SHARED pages are not copied: every image maps the same
// pages, so writes there are seen by all, as after a real fork.
//
// Everything here is guarded by the kernel lock.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "kernel/memory_manager.h"

namespace myst::kernel {

class Kernel;
class Process;
class Thread;
struct SpaceTurns;

// One copy of a space's program memory.
struct MemoryImage {
    // Its threads running program code now (not in the kernel).
    unsigned threads_in_program = 0;
    // While another image of its space is in the pages: the parked copy
    // (MemoryManager::park_space); 0 in the pages.
    uint64_t parked = 0;
    // Another image asked for the pages after a time slice: the last of
    // this image's threads to enter the kernel hands them over.
    MemoryImage* yield_to = nullptr;
    bool told_no_room = false;  // the budget stopped its turn once (said on stderr)
    // The images of its space, while there are more than one.
    std::shared_ptr<SpaceTurns> turns;
};

// The images of one space that take turns on its pages.
struct SpaceTurns {
    SpaceId space = first_space;
    std::vector<MemoryImage*> images;
    MemoryImage* resident = nullptr;  // null: no image is in the pages
    uint64_t resident_since_ns = 0;   // monotonic
    uint32_t changes = 0;             // futex word, bumped at every change
    unsigned waiting = 0;             // threads waiting for their image's turn
};

class MemoryTurns {
public:
    explicit MemoryTurns(Kernel& kernel) : m_kernel(kernel) {}

    // fork(2) of a single-threaded `parent`: its image is parked as it is,
    // and the new image (returned, for the child) takes the pages. ENOMEM
    // when the budget cannot hold the parked copy.
    Result<std::shared_ptr<MemoryImage>> fork_image(Process& parent);
    // exec(2) or the end of `process`: it lets go of its image (leaving
    // process.image empty). The last process using an image ends it: its
    // pages (or parked copy) go back and another image may come in.
    void leave_image(Process& process);
    // Ends `image` if nobody else uses it (leave_image of a process that
    // let go of it already).
    void drop_image(std::shared_ptr<MemoryImage> image);

    // exec(2) by turns, for the calling thread's single-threaded process:
    // it gets a new, empty image of `space` (its own or another process's)
    // and waits until that image has the pages (the image there parked,
    // with whoever uses it). Returns the old image: the caller drops it
    // once the program is loaded, or gives it back with return_to_image.
    // Null, with nothing changed, when no process uses `space`.
    std::shared_ptr<MemoryImage> enter_empty_image(Thread& thread, SpaceId space);
    // The load failed: the new image ends and the process has its old one
    // again (brought back into the pages before it runs program code).
    void return_to_image(Thread& thread, std::shared_ptr<MemoryImage> old_image);

    // A program thread entered the kernel (a syscall, a fault, an
    // interrupt): from here on it may touch program memory.
    void entered_kernel(Thread& thread);
    // The thread goes back to program code.
    void returning_to_program(Thread& thread);
    // Waits (letting the kernel lock go) until the thread's image is in
    // the pages; hands the pages over first when asked to.
    void ensure_resident(Thread& thread);
    // The thread is about to wait on the host without the kernel lock
    // (BlockingScope): an image waiting for the pages may take them now.
    void blocking(Thread& thread);
    // Its host wait is over: it waits for its image's turn if need be.
    void blocking_ended(Thread& thread);

    // How long an image keeps the pages while another waits for them.
    static constexpr uint64_t time_slice_ns = 10'000'000;

private:
    uint64_t now_ns();
    // False when the budget cannot hold `from`'s parked copy.
    bool hand_over(SpaceTurns& turns, MemoryImage& from, MemoryImage& to);
    void bring_in(SpaceTurns& turns, MemoryImage& image);
    void ask_to_yield(MemoryImage& resident, MemoryImage& requester);
    void wait_for_change(const std::shared_ptr<SpaceTurns>& turns);
    void changed(SpaceTurns& turns);
    // Every thread using `image` waits on the host (BlockingScope): the
    // pages may go to another image without asking.
    bool all_in_host_waits(const MemoryImage& image);
    // The threads of every process using `image`.
    std::vector<Thread*> threads_of(const MemoryImage& image);
    // The space has one image left, in the pages: it stops taking turns.
    void dissolve_if_alone(SpaceTurns& turns);

    Kernel& m_kernel;
};

}  // namespace myst::kernel
