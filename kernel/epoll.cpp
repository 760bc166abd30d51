#include "kernel/epoll.h"

#include <sys/stat.h>

namespace myst::kernel {

namespace {

// Linux's EP_MAX_NESTS: how many epoll instances may watch each other in a row.
constexpr int kMaxNesting = 4;
// The bits of an item's events that are flags rather than events.
constexpr uint32_t kFlagBits = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;

}  // namespace

Result<void> EpollFile::add(int fd, const std::shared_ptr<fs::OpenFile>& file, EpollEvent event) {
    prune();
    const Key key{fd, file.get()};
    if (m_items.contains(key))
        return Error(EEXIST, "already watched");
    if (auto* inner = dynamic_cast<const EpollFile*>(file.get())) {
        const int depth = inner->nesting_depth(this, 1);
        if (depth < 0 || depth > kMaxNesting)
            return Error(ELOOP, "epoll instances would watch each other");
    }
    m_items[key] = Item{file, event.events, event.data, false, std::nullopt};
    return {};
}

Result<void> EpollFile::modify(int fd, const fs::OpenFile& file, EpollEvent event) {
    auto found = m_items.find(Key{fd, &file});
    if (found == m_items.end() || found->second.file.expired())
        return Error(ENOENT, "not watched");
    if (found->second.events & EPOLLEXCLUSIVE)
        return Error(EINVAL, "EPOLLEXCLUSIVE items cannot be modified");
    // As Linux's ep_modify: a ready item is reported again, even
    // edge-triggered, and a one-shot item is armed again.
    found->second.events = event.events;
    found->second.data = event.data;
    found->second.disabled = false;
    found->second.reported_generation.reset();
    return {};
}

Result<void> EpollFile::remove(int fd, const fs::OpenFile& file) {
    if (m_items.erase(Key{fd, &file}) == 0)
        return Error(ENOENT, "not watched");
    return {};
}

uint32_t EpollFile::pending_events(Item& item, fs::OpenFile& file) {
    if (item.disabled)
        return 0;
    const uint32_t ready = file.poll_events() & ((item.events & ~kFlagBits) | EPOLLERR | EPOLLHUP);
    if (!ready)
        return 0;
    if ((item.events & EPOLLET) && item.reported_generation == file.readiness_generation())
        return 0;
    return ready;
}

std::vector<EpollEvent> EpollFile::take_ready(size_t limit) {
    prune();
    std::vector<EpollEvent> ready;
    for (auto& [key, item] : m_items) {
        if (ready.size() >= limit)
            break;
        std::shared_ptr<fs::OpenFile> file = item.file.lock();
        const uint32_t events = file ? pending_events(item, *file) : 0;
        if (!events)
            continue;
        ready.push_back({events, item.data});
        if (item.events & EPOLLET)
            item.reported_generation = file->readiness_generation();
        if (item.events & EPOLLONESHOT)
            item.disabled = true;
    }
    return ready;
}

uint32_t EpollFile::poll_events() {
    for (auto& [key, item] : m_items) {
        std::shared_ptr<fs::OpenFile> file = item.file.lock();
        if (file && pending_events(item, *file))
            return POLLIN | POLLRDNORM;
    }
    return 0;
}

Result<void> EpollFile::add_wake_sources(fs::WaitSources& sources, uint32_t) {
    for (auto& [key, item] : m_items) {
        std::shared_ptr<fs::OpenFile> file = item.file.lock();
        if (file && !item.disabled)
            TRY(file->add_wake_sources(sources, item.events & ~kFlagBits));
    }
    return {};
}

uint64_t EpollFile::readiness_generation() const {
    uint64_t generation = 0;
    for (const auto& [key, item] : m_items)
        if (std::shared_ptr<fs::OpenFile> file = item.file.lock())
            generation += file->readiness_generation();
    return generation;
}

int EpollFile::nesting_depth(const EpollFile* target, int level) const {
    if (this == target)
        return -1;
    int deepest = level;
    for (const auto& [key, item] : m_items) {
        std::shared_ptr<fs::OpenFile> file = item.file.lock();
        auto* inner = dynamic_cast<const EpollFile*>(file.get());
        if (!inner)
            continue;
        if (level > kMaxNesting)
            return level;
        const int depth = inner->nesting_depth(target, level + 1);
        if (depth < 0)
            return -1;
        deepest = std::max(deepest, depth);
    }
    return deepest;
}

void EpollFile::prune() {
    std::erase_if(m_items, [](const auto& entry) { return entry.second.file.expired(); });
}

}  // namespace myst::kernel
