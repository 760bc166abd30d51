// The LUKS1 header reader at its real entry, CryptDevice::open (header
// parse, master-key check), then reads of the payload through it. The input
// is the header's first sector(s); the rest of the 2 MiB header area and a
// few payload blocks are zeros. The key is the one the seed image was made
// with (fuzz/make_seeds.sh), so a seed's header accepts it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "blk/crypt_device.h"
#include "fuzz/fuzz_support.h"

namespace {

constexpr size_t kMaxHeaderBytes = 4096;
constexpr size_t kDeviceBytes = (size_t(2) << 20) + 8 * 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace myst;
    if (size > kMaxHeaderBytes)
        return -1;
    std::vector<uint8_t> key(64);
    for (size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<uint8_t>(i);
    auto device = blk::CryptDevice::open(
        std::make_unique<fuzz::MemoryBlockDevice>(std::span(data, size), 4096, kDeviceBytes), key,
        "fuzz.luks");
    if (device.is_error())
        return 0;
    std::vector<uint8_t> block(device.value()->block_size());
    uint64_t blocks = std::min<uint64_t>(device.value()->block_count(), 16);
    for (uint64_t i = 0; i < blocks; ++i)
        (void)device.value()->read_blocks(i, block);
    return 0;
}
