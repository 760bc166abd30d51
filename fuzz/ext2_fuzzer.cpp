// The ext2 driver on a mutated image, with verity off: the image bytes are
// the block device (under the overlay, as the kernel stacks it), mounted
// with create_ext2fs and walked: every directory listed, every inode
// stat'ed, every file and symlink read, with bounded work.
#include <cstddef>
#include <cstdint>

#include "blk/overlay_device.h"
#include "fs/ext2/ext2fs.h"
#include "fuzz/fuzz_support.h"

namespace {

// 4 MiB: images from the tests' seeds are well below it, and the walk's
// cost stays bounded whatever the image claims.
constexpr size_t kMaxImageBytes = size_t(4) << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace myst;
    if (size > kMaxImageBytes)
        return -1;  // not added to the corpus
    auto device = std::make_unique<blk::OverlayDevice>(
        std::make_unique<fuzz::MemoryBlockDevice>(std::span(data, size), 4096));
    auto file_system = fs::create_ext2fs(std::move(device), fs::fixed_clock({0, 0}), "fuzz.ext2");
    if (!file_system.is_error())
        fuzz::walk_file_system(*file_system.value());
    return 0;
}
