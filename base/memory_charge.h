// What file systems take from memory for what programs write into them (the
// pages and entries of a ramfs, the copy-on-write blocks above an ext2
// image), charged against a limit: the kernel's memory budget, and a tmpfs
// mount's size= on top of it. Past the limit the write fails (ENOSPC) instead
// of growing myst. The caches of images a program mounts share a limit of
// their own the same way (past it a cache stops growing).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

namespace myst {

class MemoryCharge {
public:
    virtual ~MemoryCharge() = default;
    // Takes `bytes`; false, with nothing taken, when they are not left.
    virtual bool take(uint64_t bytes) = 0;
    // Gives back bytes taken before.
    virtual void give_back(uint64_t bytes) = 0;
    // Bytes that may still be taken (statfs's free blocks).
    virtual uint64_t available() const = 0;
    // The limit itself (what tmpfs's size=50% is a part of).
    virtual uint64_t capacity() const = 0;
};

// At most `limit` bytes of `below` (tmpfs size=): what is taken here is
// taken from `below` too. Without a `below`, a limit of its own (the
// allowance the caches of mounted images share).
class CappedCharge final : public MemoryCharge {
public:
    CappedCharge(std::shared_ptr<MemoryCharge> below, uint64_t limit)
        : m_below(std::move(below)), m_limit(limit) {}

    bool take(uint64_t bytes) override {
        std::lock_guard guard(m_lock);
        if (bytes > m_limit - m_taken || (m_below && !m_below->take(bytes)))
            return false;
        m_taken += bytes;
        return true;
    }
    void give_back(uint64_t bytes) override {
        std::lock_guard guard(m_lock);
        bytes = bytes < m_taken ? bytes : m_taken;
        m_taken -= bytes;
        if (m_below)
            m_below->give_back(bytes);
    }
    uint64_t available() const override {
        std::lock_guard guard(m_lock);
        uint64_t own = m_limit - m_taken;
        if (!m_below)
            return own;
        uint64_t below = m_below->available();
        return below < own ? below : own;
    }
    uint64_t capacity() const override {
        if (!m_below)
            return m_limit;
        uint64_t below = m_below->capacity();
        return below < m_limit ? below : m_limit;
    }

private:
    mutable std::mutex m_lock;
    std::shared_ptr<MemoryCharge> m_below;
    const uint64_t m_limit;
    uint64_t m_taken = 0;
};

}  // namespace myst
