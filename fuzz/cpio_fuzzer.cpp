// The CPIO reader at the entry the kernel uses for a ramfs root
// (create_ramfs_from_cpio), then a walk of the tree it built.
#include <cstddef>
#include <cstdint>

#include "fs/ramfs/ramfs.h"
#include "fuzz/fuzz_support.h"
#include "image/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace myst;
    image::MemoryFile archive(std::vector<uint8_t>(data, data + size));
    auto file_system = fs::create_ramfs_from_cpio(archive, fs::fixed_clock({0, 0}));
    if (!file_system.is_error())
        fuzz::walk_file_system(*file_system.value());
    return 0;
}
