// mount(2)'s data string (apply_mount_data), for each type of mount: the
// first byte picks the type, the rest is the string a program passes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernel/mount_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace myst;
    if (size == 0)
        return 0;
    kernel::MountSource source;
    constexpr kernel::MountType types[] = {kernel::MountType::ext2, kernel::MountType::hostfs,
                                           kernel::MountType::ramfs};
    source.type = types[data[0] % 3];
    fs::MountOptions options;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    auto applied = kernel::apply_mount_data(text, source, options);
    if (!applied.is_error() && source.key && source.key->size() != 64)
        __builtin_trap();
    return 0;
}
