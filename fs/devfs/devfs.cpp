#include "fs/devfs/devfs.h"

#include <sys/sysmacros.h>

#include <cstring>

#include "fs/vfs/synthetic.h"

namespace myst::fs {

namespace {

constexpr long kDevtmpfsMagic = 0x01021994;  // TMPFS_MAGIC, as devtmpfs reports

enum class DeviceKind { null, zero, full, random, urandom };

// The memory devices of Linux's major 1.
class MemoryDevice final : public SyntheticInode {
public:
    MemoryDevice(SyntheticFileSystem& fs, uint64_t ino, DeviceKind kind, unsigned minor,
                 Target& target)
        : SyntheticInode(fs, ino, S_IFCHR | 0666, makedev(1, minor)),
          m_kind(kind),
          m_target(target) {}

    Result<size_t> read_at(uint64_t, std::span<uint8_t> buffer) override {
        switch (m_kind) {
            case DeviceKind::null:
                return size_t{0};
            case DeviceKind::zero:
            case DeviceKind::full:
                std::memset(buffer.data(), 0, buffer.size());
                return buffer.size();
            case DeviceKind::random:
            case DeviceKind::urandom:
                TRY(m_target.random_bytes(buffer));
                return buffer.size();
        }
        return Error(EINVAL, "unknown device");
    }

    Result<size_t> write_at(uint64_t, std::span<const uint8_t> data) override {
        if (m_kind == DeviceKind::full)
            return Error(ENOSPC, "no space left on device");
        // Linux takes writes to the random devices as (uncredited) entropy;
        // here they are dropped like writes to null and zero.
        return data.size();
    }

    Result<uint64_t> append(std::span<const uint8_t> data) override {
        TRY(write_at(0, data));
        return 0;
    }

    Result<void> truncate(uint64_t) override {
        // O_TRUNC on a device is ignored, as Linux does.
        return {};
    }

private:
    DeviceKind m_kind;
    Target& m_target;
};

std::shared_ptr<GeneratedSymlink> fixed_link(SyntheticFileSystem& fs, uint64_t ino,
                                             std::string target) {
    return std::make_shared<GeneratedSymlink>(
        fs, ino, [target = std::move(target)]() -> Result<std::string> { return target; });
}

}  // namespace

std::shared_ptr<FileSystem> create_devfs(Target& target) {
    auto birth = target.clock_time(CLOCK_REALTIME);
    auto fs = std::make_shared<SyntheticFileSystem>("devtmpfs", kDevtmpfsMagic,
                                                    birth.is_error() ? timespec{} : birth.value());
    uint64_t ino = 1;
    auto root = std::make_shared<StaticDirectory>(*fs, ino++);
    struct Device {
        const char* name;
        DeviceKind kind;
        unsigned minor;
    };
    for (const Device& device :
         {Device{"full", DeviceKind::full, 7}, Device{"null", DeviceKind::null, 3},
          Device{"random", DeviceKind::random, 8}, Device{"urandom", DeviceKind::urandom, 9},
          Device{"zero", DeviceKind::zero, 5}}) {
        root->add(device.name,
                  std::make_shared<MemoryDevice>(*fs, ino++, device.kind, device.minor, target));
    }
    root->add("fd", fixed_link(*fs, ino++, "/proc/self/fd"));
    root->add("pts", std::make_shared<StaticDirectory>(*fs, ino++));
    root->add("shm", std::make_shared<StaticDirectory>(*fs, ino++, 01777));
    root->add("stderr", fixed_link(*fs, ino++, "/proc/self/fd/2"));
    root->add("stdin", fixed_link(*fs, ino++, "/proc/self/fd/0"));
    root->add("stdout", fixed_link(*fs, ino++, "/proc/self/fd/1"));
    fs->set_root(std::move(root));
    return fs;
}

}  // namespace myst::fs
