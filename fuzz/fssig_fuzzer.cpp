// The fssig trailer reader: read_fssig on the input as a whole image (its
// last 4096 bytes), as open_ext2_image reads every image first.
#include <cstddef>
#include <cstdint>

#include "image/fssig.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace myst;
    image::MemoryFile file(std::vector<uint8_t>(data, data + size));
    auto fssig = image::read_fssig(file);
    if (!fssig.is_error()) {
        // What was parsed writes back to the same trailer.
        auto bytes = fssig.value().serialize();
        auto again = image::Fssig::parse(bytes);
        if (again.is_error() || again.value().hash_offset != fssig.value().hash_offset ||
            again.value().signature != fssig.value().signature)
            __builtin_trap();
    }
    return 0;
}
