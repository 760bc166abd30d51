// An epoll instance (epoll(7)): the set of watched descriptions and what
// was reported of them. Items are keyed by (descriptor, description), as
// Linux's, and hold the description weakly: an item goes away when its
// description's last descriptor is closed, not with one of its fds.
//
// Readiness is computed from the watched files at every check (they never
// push events here). Edge-triggered items use the files' readiness
// generations: an item is reported again only after its file moved since
// the last report. The instance is itself pollable (readable while some
// item would be reported); its wake sources are its items'.
#pragma once

#include <sys/epoll.h>

#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/result.h"
#include "fs/vfs/open_file.h"
#include "kernel/anonymous_file.h"

namespace myst::kernel {

// struct epoll_event as the x86-64 ABI packs it (12 bytes).
struct __attribute__((packed)) EpollEvent {
    uint32_t events;
    uint64_t data;
};

class EpollFile final : public AnonymousFile {
public:
    EpollFile() : AnonymousFile(O_RDWR, "eventpoll") {}

    // EPOLL_CTL_ADD (EEXIST), EPOLL_CTL_MOD and EPOLL_CTL_DEL (ENOENT).
    // ADD fails with ELOOP when `file` is an epoll instance that watches
    // this one, or nests deeper than Linux allows.
    Result<void> add(int fd, const std::shared_ptr<fs::OpenFile>& file, EpollEvent event);
    Result<void> modify(int fd, const fs::OpenFile& file, EpollEvent event);
    Result<void> remove(int fd, const fs::OpenFile& file);

    // The events to report now, at most `limit`; edge-triggered and
    // one-shot items are marked as reported.
    std::vector<EpollEvent> take_ready(size_t limit);

    uint32_t poll_events() override;
    Result<void> add_wake_sources(fs::WaitSources& sources, uint32_t events) override;
    uint64_t readiness_generation() const override;

private:
    struct Item {
        std::weak_ptr<fs::OpenFile> file;
        uint32_t events = 0;  // as asked, with EPOLLET, EPOLLONESHOT...
        uint64_t data = 0;
        bool disabled = false;                        // a one-shot item that fired
        std::optional<uint64_t> reported_generation;  // edge-triggered: last report
    };
    using Key = std::pair<int, const fs::OpenFile*>;

    // What `item` would report now (0: nothing); drops nothing.
    static uint32_t pending_events(Item& item, fs::OpenFile& file);
    // How deep epoll instances nest below this one; -1 when `target` is
    // among them.
    int nesting_depth(const EpollFile* target, int level) const;
    // Forgets items whose description is gone.
    void prune();

    std::map<Key, Item> m_items;
};

}  // namespace myst::kernel
