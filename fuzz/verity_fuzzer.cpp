// The verity superblock and hash tree reader at its real entry,
// open_ext2_image (fssig trailer -> verity superblock -> layout -> tree),
// then a read of every data block through the verified stack. The image is
// handed over as a host file (a memfd), as the kernel opens images.
//
// Only the root hash is made to fit: whoever can write an image that is
// trusted by its own fssig can also write the matching root hash, so the
// harness does what such a writer would (hash the stored top block and put
// that in the trailer); otherwise almost every input would stop at "root
// hash mismatch" and the tree reader would never run.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "blk/image_device.h"
#include "image/fssig.h"
#include "image/verity.h"
#include "target/linux_target.h"

namespace {

using namespace myst;

// Where the trailer keeps the root hash (image/fssig.h).
constexpr size_t kFssigRootHashOffset = 24;

void fit_root_hash(std::vector<uint8_t>& image) {
    image::MemoryFile file(image);
    auto fssig = image::read_fssig(file);
    if (fssig.is_error())
        return;
    uint64_t hash_offset = fssig.value().hash_offset;
    std::vector<uint8_t> superblock_bytes(image::verity_superblock_size);
    if (file.read_at(hash_offset, superblock_bytes).is_error())
        return;
    auto superblock = image::VeritySuperblock::parse(superblock_bytes);
    if (superblock.is_error())
        return;
    auto layout = image::VerityLayout::compute(hash_offset, superblock.value().data_blocks);
    if (layout.level_start.empty())
        return;
    std::vector<uint8_t> top(image::verity_block_size);
    if (file.read_at(layout.level_start.back(), top).is_error())
        return;
    Sha256 hasher;
    Sha256Digest root = image::verity_hash_block(hasher, superblock.value().salt, top);
    std::memcpy(image.data() + image.size() - image::fssig_size + kFssigRootHashOffset, root.data(),
                root.size());
}

struct HostImage {
    int fd = memfd_create("fuzz-verity-image", MFD_CLOEXEC);
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    LinuxTarget target;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static HostImage host;
    if (size > (size_t(4) << 20))
        return -1;
    std::vector<uint8_t> image(data, data + size);
    fit_root_hash(image);
    if (ftruncate(host.fd, 0) != 0 ||
        pwrite(host.fd, image.data(), image.size(), 0) != static_cast<ssize_t>(image.size()))
        __builtin_trap();

    blk::ImageTrust trust;
    trust.trust_image_fssig = true;
    auto opened = blk::open_ext2_image(host.target, host.path, trust, std::nullopt, nullptr,
                                       uint64_t(1) << 20);
    if (opened.is_error())
        return 0;
    blk::BlockDevice& device = *opened.value().device;
    std::vector<uint8_t> block(device.block_size());
    uint64_t blocks = std::min<uint64_t>(device.block_count(), 1024);
    for (uint64_t i = 0; i < blocks; ++i)
        (void)device.read_blocks(i, block);
    return 0;
}
