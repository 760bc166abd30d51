#include "kernel/shared_pages.h"

#include <algorithm>
#include <vector>

#include "kernel/memory_manager.h"

namespace myst::kernel {

namespace {

constexpr uint64_t copy_chunk = 64 * 1024;

}  // namespace

Result<std::shared_ptr<SharedPages>> SharedPages::create(Target& target, MemoryManager& memory,
                                                         uint64_t size) {
    TRY(memory.charge_shared(page_align_up(size)));
    auto handle = target.shared_memory_create(size);
    if (handle.is_error()) {
        memory.uncharge_shared(page_align_up(size));
        return handle.release_error();
    }
    auto pages = std::shared_ptr<SharedPages>(new SharedPages(target, memory, handle.value()));
    pages->m_size = size;
    pages->m_charged = page_align_up(size);
    return pages;
}

Result<std::shared_ptr<SharedPages>> SharedPages::of_file(Target& target, MemoryManager& memory,
                                                          const std::shared_ptr<fs::Inode>& file) {
    if (auto existing = file->mapped_pages())
        return std::static_pointer_cast<SharedPages>(existing);
    struct stat st = TRY(file->stat());
    uint64_t size = static_cast<uint64_t>(st.st_size);
    auto pages = TRY(create(target, memory, size));
    std::vector<uint8_t> buffer(std::min(size, copy_chunk));
    for (uint64_t done = 0; done < size;) {
        size_t count =
            TRY(file->read_at(done, std::span(buffer.data(), std::min(size - done, copy_chunk))));
        if (count == 0)
            break;
        TRY(target.file_pwrite(pages->m_handle, std::span(buffer.data(), count), done));
        done += count;
    }
    pages->m_file = file;
    file->set_mapped_pages(pages);
    return pages;
}

SharedPages::~SharedPages() {
    // Errors have nowhere to go here, as on Linux when writeback after the
    // last munmap fails.
    (void)write_back();
    (void)m_target.file_close(m_handle);
    m_memory.uncharge_shared(m_charged);
}

Result<void> SharedPages::write_back() {
    if (!m_file || !m_written)
        return {};
    struct stat st = TRY(m_file->stat());
    uint64_t size = std::min(m_size, static_cast<uint64_t>(st.st_size));
    std::vector<uint8_t> buffer(std::min(size, copy_chunk));
    for (uint64_t done = 0; done < size;) {
        size_t count = TRY(m_target.file_pread(
            m_handle, std::span(buffer.data(), std::min(size - done, copy_chunk)), done));
        if (count == 0)
            break;
        TRY(m_file->write_at(done, std::span<const uint8_t>(buffer.data(), count)));
        done += count;
    }
    return {};
}

Result<size_t> SharedPages::read(uint64_t offset, std::span<uint8_t> buffer) {
    if (offset >= m_size)
        return 0;
    buffer = buffer.first(std::min<uint64_t>(buffer.size(), m_size - offset));
    size_t done = 0;
    while (done < buffer.size()) {
        size_t count = TRY(m_target.file_pread(m_handle, buffer.subspan(done), offset + done));
        if (count == 0)
            break;
        done += count;
    }
    return done;
}

Result<void> SharedPages::write(uint64_t offset, std::span<const uint8_t> data) {
    if (offset + data.size() > m_size)
        TRY(resize(offset + data.size()));
    size_t done = 0;
    while (done < data.size())
        done += TRY(m_target.file_pwrite(m_handle, data.subspan(done), offset + done));
    return {};
}

Result<void> SharedPages::resize(uint64_t size) {
    TRY(recharge(size));
    auto resized = m_target.shared_memory_resize(m_handle, size);
    if (resized.is_error()) {
        (void)recharge(m_size);
        return resized.release_error();
    }
    m_size = size;
    return {};
}

Result<void> SharedPages::recharge(uint64_t size) {
    uint64_t wanted = page_align_up(size);
    if (wanted > m_charged)
        TRY(m_memory.charge_shared(wanted - m_charged));
    else
        m_memory.uncharge_shared(m_charged - wanted);
    m_charged = wanted;
    return {};
}

}  // namespace myst::kernel
