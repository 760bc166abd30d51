#include "kernel/user_memory.h"

#include <climits>
#include <cstring>

#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

bool readable(Thread& thread, uint64_t address, size_t size) {
    return thread.kernel().memory().is_accessible(address, size, false);
}

}  // namespace

Result<void> copy_from_user(Thread& thread, void* destination, uint64_t source, size_t size) {
    if (size == 0)
        return {};
    if (!readable(thread, source, size))
        return Error(EFAULT, "bad address");
    std::memcpy(destination, reinterpret_cast<const void*>(source), size);
    return {};
}

Result<void> copy_to_user(Thread& thread, uint64_t destination, const void* source, size_t size) {
    if (size == 0)
        return {};
    if (!thread.kernel().memory().is_accessible(destination, size, true))
        return Error(EFAULT, "bad address");
    std::memcpy(reinterpret_cast<void*>(destination), source, size);
    return {};
}

Result<std::string> copy_string_from_user(Thread& thread, uint64_t source, size_t max_size) {
    std::string text;
    // Check page by page, so a string that ends just before an unmapped page is fine.
    uint64_t cursor = source;
    while (text.size() < max_size) {
        uint64_t page_end = page_align_down(cursor) + page_size;
        size_t chunk = std::min<uint64_t>(page_end - cursor, max_size - text.size());
        if (!readable(thread, cursor, chunk))
            return Error(EFAULT, "bad address");
        const char* bytes = reinterpret_cast<const char*>(cursor);
        size_t length = strnlen(bytes, chunk);
        text.append(bytes, length);
        if (length < chunk)
            return text;
        cursor += chunk;
    }
    return Error(ENAMETOOLONG, "string too long");
}

Result<std::string> copy_path_from_user(Thread& thread, uint64_t source) {
    std::string path = TRY(copy_string_from_user(thread, source, PATH_MAX));
    if (path.empty())
        return Error(ENOENT, "empty path");
    return path;
}

}  // namespace myst::kernel
