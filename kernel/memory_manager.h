// The program's memory: one region of MemorySize bytes reserved at start
// (as an enclave's heap), from which brk, mmap, stacks and loaded images are
// carved; running out is ENOMEM. Fixed-address executables that fall outside
// the region are mapped where they ask, when that range is free; the
// program's own MAP_FIXED stays inside the region.
// Every length and address is checked for wrap-around before it is used: a
// range that wraps past 2^64 would otherwise name the kernel's own memory.
// Every mapping is tracked, so copies from user memory can be checked and
// /proc/self/maps can be shown.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "target/target.h"

namespace myst::kernel {

constexpr uint64_t page_size = 4096;
constexpr uint64_t page_align_up(uint64_t value) {
    return (value + page_size - 1) & ~(page_size - 1);
}
constexpr uint64_t page_align_down(uint64_t value) {
    return value & ~(page_size - 1);
}

// Linux's TASK_SIZE (4-level paging): no program mapping reaches past it.
constexpr uint64_t user_address_end = 0x7ffffffff000;
// Linux's default vm.mmap_min_addr: MAP_FIXED below it is EPERM.
constexpr uint64_t min_map_address = 0x10000;
// Linux's stack_guard_gap (256 pages): mmap leaves this much free below the
// stack, so that a runaway recursion faults instead of running into a mapping.
constexpr uint64_t stack_guard_gap = 256 * page_size;
// The mapping the loader names so has the guard gap below it.
inline constexpr const char* stack_mapping_name = "[stack]";
inline constexpr const char* heap_mapping_name = "[heap]";

// Which process image a mapping belongs to: each exec'd program has a space
// of its own, which its exit or next exec gives back at once; a child of
// fork or vfork borrows its parent's until it execs or exits.
using SpaceId = uint32_t;
constexpr SpaceId kernel_space = 0;  // the kernel's own pages in the region (fork snapshots)
constexpr SpaceId first_space = 1;   // the first program's (and single-process callers')

class SharedPages;  // kernel/shared_pages.h

struct Mapping {
    uint64_t end = 0;    // exclusive
    int protection = 0;  // PROT_* bits
    bool in_region = true;
    std::string name;  // path, "[heap]", "[stack]" or empty
    uint64_t file_offset = 0;
    bool guard_gap_below = false;  // the main stack (VM_GROWSDOWN on Linux)
    SpaceId space = first_space;
    // MAP_SHARED: the pages this mapping shows, from `file_offset` on. A
    // fork snapshot neither saves nor restores them: what the child writes
    // there is what its parent sees (kernel/memory_snapshot.h).
    std::shared_ptr<SharedPages> shared_pages;
};

struct SpaceSnapshot;  // kernel/memory_snapshot.h

class MemoryManager {
public:
    static Result<std::unique_ptr<MemoryManager>> create(Target& target, uint64_t region_size);
    ~MemoryManager();

    // Anonymous, zero-filled pages anywhere in the region (top-down, as Linux).
    Result<uint64_t> map_anywhere(uint64_t length, int protection, std::string name,
                                  SpaceId space = first_space);
    // Pages at exactly [address, address+length): inside the region they
    // replace what was there (MAP_FIXED); outside it only a free range is taken.
    Result<uint64_t> map_fixed(uint64_t address, uint64_t length, int protection, std::string name,
                               bool replace, SpaceId space = first_space);
    // MAP_FIXED from the program: only inside the region (the budget), or
    // over out-of-region pages it already has (a fixed-address image);
    // EPERM below min_map_address, ENOMEM elsewhere, as Linux past TASK_SIZE.
    Result<uint64_t> map_fixed_for_program(uint64_t address, uint64_t length, int protection,
                                           bool replace, SpaceId space = first_space);
    // `length` bytes of `pages` from `offset` (MAP_SHARED), anywhere in the
    // region or, with `fixed`, at `address` as map_fixed_for_program.
    Result<uint64_t> map_shared(uint64_t address, uint64_t length, int protection,
                                std::shared_ptr<SharedPages> pages, uint64_t offset,
                                std::string name, bool fixed, bool replace, SpaceId space);
    // The shared pages of the MAP_SHARED mappings that meet the range (msync).
    std::vector<std::shared_ptr<SharedPages>> shared_pages_in(uint64_t address,
                                                              uint64_t length) const;
    // How many mappings show `pages` from their start (SysV attachments).
    uint64_t mappings_from_start_of(const SharedPages* pages) const;
    // Shared pages live outside the region: their bytes are charged here,
    // so that they and the program's private pages together stay within
    // the budget (ENOMEM past it).
    Result<void> charge_shared(uint64_t bytes);
    void uncharge_shared(uint64_t bytes);
    uint64_t shared_bytes() const;
    // The budget (--memory-size), and the bytes of it neither private nor
    // shared pages take.
    uint64_t budget_bytes() const { return m_region_end - m_region_start; }
    uint64_t budget_available() const;
    // Kernel teardown: every mapping lets go of its shared pages now, while
    // the file systems they write back to still exist.
    void release_shared_pages();

    // munmap(2): EINVAL for unaligned or wrapping ranges; unmapped parts are fine.
    Result<void> unmap(uint64_t address, uint64_t length);
    // mprotect(2): ENOMEM when part of the range is not mapped (the heap is).
    Result<void> protect(uint64_t address, uint64_t length, int protection);
    // madvise(MADV_DONTNEED): private anonymous pages of the range read as
    // zeros again, whatever their protection; ENOMEM when part of the range
    // is not mapped.
    Result<void> discard(uint64_t address, uint64_t length);
    // The mapping that holds all of [address, address+length) (EFAULT when
    // none does, as mremap(2) wants one vma).
    Result<Mapping> mapping_containing(uint64_t address, uint64_t length) const;
    // Names a range (e.g. a loaded segment) for /proc/self/maps.
    void set_name(uint64_t address, uint64_t length, const std::string& name, uint64_t file_offset);

    // brk(2): returns the new break, or the old one when it cannot move.
    // One space at a time owns the break (the heap grows up from the
    // region's bottom); another space's brk never moves, so its libc falls
    // back to mmap, as glibc and musl do when brk fails.
    uint64_t set_break(uint64_t requested, SpaceId space = first_space);
    // exec(2) of a program into `space`: the break is its own when no live
    // space owns it (the last owner ended or exec'd), reset to empty.
    void claim_break(SpaceId space);
    // exec by turns (kernel/memory_image.h): a new image of `space` starts
    // with an empty heap when the space owns the break (the parked image's
    // break comes back with it).
    void restart_break(SpaceId space);
    // The program space whose mapping, in the pages or parked, holds
    // `address`; none when no program's does.
    std::optional<SpaceId> space_holding(uint64_t address) const;

    // exec(2) or the exit of a space's last process: every mapping of
    // `space` goes back to the budget (and the break, when it owned it).
    void release_space(SpaceId space);
    // Parking (kernel/memory_image.h): one process image of `space` leaves
    // the pages for another image of the same space. Its mappings and bytes
    // are saved (ENOMEM past the budget) and its address ranges stay
    // reserved, so that no other space maps there meanwhile; with
    // `keep_pages` the pages stay as they are (fork: the child goes on in
    // them), else they are given back. Returns the parked image's id.
    Result<uint64_t> park_space(SpaceId space, bool keep_pages);
    // Puts a parked image back into its (vacant) space and forgets it.
    void unpark_space(uint64_t parked);
    // Forgets a parked image that will not come back (its process ended).
    void forget_parked(uint64_t parked);
    // Gives back every mapping of `space` (the image in the pages ended
    // while others of the space are parked); the break stays the space's.
    void vacate_space(SpaceId space);

    // True when [address, address+length) lies in mappings that allow it.
    bool is_accessible(uint64_t address, uint64_t length, bool write) const;
    // How many bytes from `address` (at most `length`) do, as a copy that
    // stops at the first fault moves them.
    uint64_t accessible_length(uint64_t address, uint64_t length, bool write) const;
    // True when every page of the range is mapped, whatever its protection.
    bool is_mapped(uint64_t address, uint64_t length) const;
    // Host pages the program may read though they are not its mappings: the
    // vDSO the loader passes in AT_SYSINFO_EHDR.
    void add_host_readable(uint64_t address, uint64_t length);
    // /proc/<pid>/maps text of one space, in Linux's format.
    std::string format_maps(SpaceId space = first_space) const;

    uint64_t region_start() const { return m_region_start; }
    uint64_t region_end() const { return m_region_end; }
    uint64_t committed_bytes() const;
    // The bytes mapped for one space (VmSize).
    uint64_t space_bytes(SpaceId space) const;

private:
    // Lets go of the shared pages a call dropped once m_lock is free: the
    // last reference to a file's pages writes them back to the file system.
    class ReleaseAfterUnlock {
    public:
        explicit ReleaseAfterUnlock(MemoryManager& memory) : m_memory(memory) {}
        ~ReleaseAfterUnlock();
        ReleaseAfterUnlock(const ReleaseAfterUnlock&) = delete;
        ReleaseAfterUnlock& operator=(const ReleaseAfterUnlock&) = delete;

    private:
        MemoryManager& m_memory;
    };

    MemoryManager(Target& target, uint64_t start, uint64_t end)
        : m_target(target), m_region_start(start), m_region_end(end) {}

    Result<uint64_t> find_free_range(uint64_t length) const;
    // Splits mappings so that `address` is a boundary.
    void split_at(uint64_t address);
    void erase_range(uint64_t address, uint64_t end);
    bool range_is_free(uint64_t address, uint64_t end) const;
    // The lowest start of a parked range (of any space but `except`) that
    // meets [address, end), or 0 when none does.
    uint64_t parked_range_start_locked(uint64_t address, uint64_t end,
                                       SpaceId except = kernel_space) const;
    // The highest `length` bytes of [floor, top) that meet no parked range, or 0.
    uint64_t fit_below_parked_locked(uint64_t floor, uint64_t top, uint64_t length) const;
    void vacate_space_locked(SpaceId space);
    // A copy of what the program can see of `space` (mappings and the
    // bytes of their resident pages, stored in the budget: ENOMEM when it
    // is used up).
    Result<std::shared_ptr<SpaceSnapshot>> snapshot_space(SpaceId space);
    // Puts `space` back as `snapshot` saw it and frees the snapshot's pages.
    void restore_space(SpaceId space, SpaceSnapshot& snapshot);
    // Frees a snapshot that will not be restored.
    void discard_snapshot(SpaceSnapshot& snapshot);
    // Keeps a parked image (its ranges stay reserved); returns its id.
    uint64_t add_parked_locked(std::shared_ptr<SpaceSnapshot> snapshot);
    // Takes a parked image out of the reserved ones (null: no such id).
    std::shared_ptr<SpaceSnapshot> take_parked(uint64_t parked);
    // Records kernel pages of the region (the saved bytes of a parked image).
    void add_kernel_mapping_locked(uint64_t start, uint64_t length, int protection,
                                   std::string name);
    // Parking by moving the space's private pages out of the way whole.
    Result<std::shared_ptr<SpaceSnapshot>> move_space_out_locked(SpaceId space);
    void move_pages_locked(uint64_t from, uint64_t to, uint64_t length);
    // ENOMEM when `length` more private bytes would push private and shared
    // memory together past the budget.
    Result<void> check_budget_locked(uint64_t length) const;
    uint64_t private_bytes_locked() const;
    // Forgets the mapping at `it`, keeping its shared pages for ReleaseAfterUnlock.
    std::map<uint64_t, Mapping>::iterator forget_locked(std::map<uint64_t, Mapping>::iterator it);
    Result<uint64_t> map_fixed_locked(uint64_t address, uint64_t length, int protection,
                                      std::string name, bool replace, SpaceId space);
    // Gives back the host pages of [start, mapping.end) and forgets it.
    void drop_mapping_locked(uint64_t start);
    void restore_mapping_locked(uint64_t start, const Mapping& mapping);
    // Whether one mapping of `space` holds all of the range.
    bool restored_locked(SpaceId space, uint64_t address, uint64_t length) const;
    // Bytes from `address` up to `end` covered by mappings that have all of
    // the `needed` PROT_* bits (0: any mapping), stopping at the first gap.
    uint64_t covered_length_locked(uint64_t address, uint64_t end, int needed) const;

    Target& m_target;
    uint64_t m_region_start;
    uint64_t m_region_end;
    // The break grows up from the bottom of the region while mmap fills it
    // top-down, so each can use the whole budget, as on Linux. The heap's
    // pages are mappings named "[heap]", so mprotect and munmap treat them as
    // any other pages.
    uint64_t m_break_start = 0;
    uint64_t m_break = 0;
    SpaceId m_break_space = first_space;  // kernel_space: nobody's
    uint64_t m_host_readable_start = 0;
    uint64_t m_host_readable_end = 0;
    mutable std::mutex m_lock;
    std::map<uint64_t, Mapping> m_mappings;  // start -> mapping
    uint64_t m_shared_bytes = 0;
    // Parked process images by id (kernel/memory_snapshot.h).
    std::map<uint64_t, std::shared_ptr<SpaceSnapshot>> m_parked;
    uint64_t m_next_parked = 1;
    std::vector<std::shared_ptr<SharedPages>> m_released_pages;
};

}  // namespace myst::kernel
