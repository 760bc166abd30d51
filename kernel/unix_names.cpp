#include "kernel/unix_names.h"

#include <cstdio>

namespace myst::kernel {

namespace {

template <typename Map, typename Key>
std::shared_ptr<UnixSocket> find_live(const Map& map, const Key& key) {
    auto found = map.find(key);
    return found == map.end() ? nullptr : found->second.lock();
}

}  // namespace

Result<void> UnixNames::add_abstract(const std::string& name,
                                     const std::shared_ptr<UnixSocket>& socket) {
    if (find_live(m_abstract, name))
        return Error(EADDRINUSE, "abstract name in use");
    m_abstract[name] = socket;
    return {};
}

void UnixNames::add_path(const fs::Inode& inode, const std::shared_ptr<UnixSocket>& socket) {
    m_paths[&inode] = socket;
}

std::shared_ptr<UnixSocket> UnixNames::find_abstract(const std::string& name) const {
    return find_live(m_abstract, name);
}

std::shared_ptr<UnixSocket> UnixNames::find_path(const fs::Inode& inode) const {
    return find_live(m_paths, &inode);
}

void UnixNames::remove_abstract(const std::string& name) {
    m_abstract.erase(name);
}

void UnixNames::remove_path(const fs::Inode& inode) {
    m_paths.erase(&inode);
}

std::string UnixNames::next_autobind_name() {
    char name[8];
    for (;;) {
        std::snprintf(name, sizeof name, "%05x", m_next_autobind++ & 0xfffff);
        if (!find_live(m_abstract, std::string(name)))
            return name;
    }
}

}  // namespace myst::kernel
