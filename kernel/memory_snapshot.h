// A parked copy of one process image's memory (DESIGN decision 4: one
// address space; the processes of a space take turns on its pages,
// kernel/memory_image.h): taken at fork(2) for the parent, and at each
// switch for the image that leaves the pages.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "kernel/memory_manager.h"

namespace myst::kernel {

// MAP_SHARED mappings are remembered (with their pages) but their bytes are
// not saved: on restore they are mapped again over the same pages, so what
// the child wrote there stays visible to the parent, as after a real fork.
struct SpaceSnapshot {
    // Pages of the space that held data at fork: only resident pages are
    // saved (a page never touched reads as zero, and is made so again).
    struct Run {
        uint64_t address = 0;
        uint64_t length = 0;
        uint64_t stored_at = 0;  // where in `storage` the bytes are
    };

    // Pages moved whole out of the way (a switch between images, where
    // the target can move pages): `length` bytes from `address` now at
    // `storage`, a kernel mapping of their own.
    struct MovedRange {
        uint64_t address = 0;
        uint64_t length = 0;
        uint64_t storage = 0;
    };

    SpaceId space = kernel_space;
    std::vector<MovedRange> moved;
    std::map<uint64_t, Mapping> mappings;  // start -> mapping, as when parked
    std::vector<Run> runs;
    // The saved bytes: kernel pages in the budget, so that fork past the
    // budget fails with ENOMEM instead of growing myst.
    uint64_t storage = 0;
    uint64_t storage_length = 0;
    bool owned_break = false;
    uint64_t program_break = 0;
};

}  // namespace myst::kernel
