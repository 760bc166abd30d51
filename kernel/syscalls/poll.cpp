// Waiting on many descriptors: poll, ppoll, select and pselect6. Each
// check asks every file for its readiness under the kernel lock; between
// checks the thread waits for all their wake fds in one host ppoll
// (kernel/readiness.h).
#include <poll.h>
#include <sys/select.h>

#include <vector>

#include "kernel/readiness.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/syscalls/wait_arguments.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// One descriptor of a wait: what is asked and what holds.
struct WaitEntry {
    int fd;
    uint32_t events;  // POLL* bits asked for
    uint32_t revents = 0;
};

// The files behind the entries, looked up again at every check as Linux
// does, so a descriptor closed meanwhile reads as POLLNVAL.
struct WaitFiles {
    std::vector<std::shared_ptr<fs::OpenFile>> files;
};

// Fills each entry's revents as poll(2) reports them; returns how many
// entries have any.
int check_entries(Thread& thread, std::vector<WaitEntry>& entries, WaitFiles& found) {
    int ready = 0;
    found.files.assign(entries.size(), nullptr);
    for (size_t i = 0; i < entries.size(); ++i) {
        WaitEntry& entry = entries[i];
        entry.revents = 0;
        if (entry.fd < 0)
            continue;
        auto file = file_of(thread, entry.fd);
        if (file.is_error()) {
            entry.revents = POLLNVAL;
        } else {
            found.files[i] = file.release_value();
            entry.revents = found.files[i]->poll_events() & (entry.events | POLLERR | POLLHUP);
        }
        if (entry.revents)
            ++ready;
    }
    return ready;
}

// The wait shared by poll and select: until an entry is ready, the
// deadline passes (returns 0) or a signal comes (EINTR).
Result<int> wait_for_entries(Thread& thread, std::vector<WaitEntry>& entries,
                             const std::optional<struct timespec>& deadline) {
    WaitFiles found;
    int ready = 0;
    TRY(wait_until(
        thread,
        [&]() -> Result<bool> {
            ready = check_entries(thread, entries, found);
            return ready > 0;
        },
        [&](fs::WaitSources& sources) -> Result<void> {
            for (size_t i = 0; i < entries.size(); ++i)
                if (found.files[i])
                    TRY(found.files[i]->add_wake_sources(sources, entries[i].events));
            return {};
        },
        deadline));
    return ready;
}

// The deadline of a relative timeout; none when there is no timeout.
std::optional<struct timespec> deadline_after(Thread& thread,
                                              const std::optional<struct timespec>& timeout) {
    if (!timeout)
        return std::nullopt;
    return monotonic_after(thread, *timeout);
}

// ppoll, pselect6 and select write the time left back, unless the timeout
// was zero (Linux's poll_select_finish).
template <typename Time>
void write_time_left(Thread& thread, uint64_t address,
                     const std::optional<struct timespec>& timeout,
                     const std::optional<struct timespec>& deadline) {
    if (!address || !timeout || (timeout->tv_sec == 0 && timeout->tv_nsec == 0))
        return;
    struct timespec left = time_until(*deadline, monotonic_now(thread));
    if constexpr (std::is_same_v<Time, struct timeval>)
        (void)write_user(thread, address, timeval{left.tv_sec, left.tv_nsec / 1000});
    else
        (void)write_user(thread, address, left);
}

Result<long> poll_fds(Thread& thread, uint64_t address, uint64_t count,
                      const std::optional<struct timespec>& timeout, uint64_t timeout_address,
                      const std::optional<uint64_t>& mask) {
    if (count > static_cast<uint64_t>(fs_context_of(thread).fds.limit()))
        return Error(EINVAL, "more descriptors than RLIMIT_NOFILE");
    std::vector<struct pollfd> fds(count);
    TRY(copy_from_user(thread, fds.data(), address, count * sizeof(struct pollfd)));
    std::vector<WaitEntry> entries;
    entries.reserve(count);
    for (const struct pollfd& entry : fds)
        entries.push_back({entry.fd, static_cast<uint16_t>(entry.events)});
    const auto deadline = deadline_after(thread, timeout);
    Result<long> result = with_signal_mask(thread, mask, [&]() -> Result<long> {
        return TRY(wait_for_entries(thread, entries, deadline));
    });
    write_time_left<struct timespec>(thread, timeout_address, timeout, deadline);
    if (result.is_error())
        return result;
    for (size_t i = 0; i < count; ++i)
        fds[i].revents = static_cast<short>(entries[i].revents);
    TRY(copy_to_user(thread, address, fds.data(), count * sizeof(struct pollfd)));
    return result;
}

// select's three descriptor sets, as bit arrays of `count` bits.
struct SelectSets {
    std::vector<uint64_t> bits[3];
};

// Linux's POLLIN_SET, POLLOUT_SET and POLLEX_SET: what makes a descriptor
// of each set ready.
constexpr uint32_t kSelectReady[3] = {POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR,
                                      POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR, POLLPRI};

Result<long> select_fds(Thread& thread, int count, const uint64_t addresses[3],
                        const std::optional<struct timespec>& timeout,
                        const std::optional<uint64_t>& mask, uint64_t timeout_address,
                        bool timeval_timeout) {
    if (count < 0)
        return Error(EINVAL, "negative descriptor count");
    // Linux looks no further than its descriptor table.
    count = std::min(count, fs_context_of(thread).fds.limit());
    const size_t words = (static_cast<size_t>(count) + 63) / 64;
    SelectSets sets;
    for (int set = 0; set < 3; ++set) {
        sets.bits[set].assign(words, 0);
        if (addresses[set])
            TRY(copy_from_user(thread, sets.bits[set].data(), addresses[set], words * 8));
    }
    std::vector<WaitEntry> entries;
    for (int fd = 0; fd < count; ++fd) {
        uint32_t events = 0;
        for (int set = 0; set < 3; ++set)
            if (sets.bits[set][fd / 64] & (1ull << (fd % 64)))
                events |= kSelectReady[set];
        if (!events)
            continue;
        TRY(file_of(thread, fd));  // EBADF for a set bit of a closed descriptor
        entries.push_back({fd, events});
    }
    const auto deadline = deadline_after(thread, timeout);
    Result<long> result = with_signal_mask(thread, mask, [&]() -> Result<long> {
        return TRY(wait_for_entries(thread, entries, deadline));
    });
    if (timeval_timeout)
        write_time_left<struct timeval>(thread, timeout_address, timeout, deadline);
    else
        write_time_left<struct timespec>(thread, timeout_address, timeout, deadline);
    if (result.is_error())
        return result;
    long ready = 0;
    for (int set = 0; set < 3; ++set)
        sets.bits[set].assign(words, 0);
    for (const WaitEntry& entry : entries) {
        for (int set = 0; set < 3; ++set) {
            const bool asked = entry.events & kSelectReady[set];
            if (asked && (entry.revents & kSelectReady[set] & entry.events)) {
                sets.bits[set][entry.fd / 64] |= 1ull << (entry.fd % 64);
                ++ready;
            }
        }
    }
    for (int set = 0; set < 3; ++set)
        if (addresses[set])
            TRY(copy_to_user(thread, addresses[set], sets.bits[set].data(), words * 8));
    return ready;
}

}  // namespace

// Poll implements Linux syscall poll(2).
Result<long> sys_poll(Thread& thread, const SyscallArgs& args) {
    return poll_fds(thread, args.address(0), args.raw[1], milliseconds_timeout(args.integer(2)), 0,
                    std::nullopt);
}

// Ppoll implements Linux syscall ppoll(2): the time left is written back.
Result<long> sys_ppoll(Thread& thread, const SyscallArgs& args) {
    std::optional<struct timespec> timeout;
    if (args.address(2))
        timeout = TRY(read_timeout(thread, args.address(2)));
    auto mask = TRY(read_signal_mask(thread, args.address(3), args.size(4)));
    return poll_fds(thread, args.address(0), args.raw[1], timeout, args.address(2), mask);
}

// Select implements Linux syscall select(2): the time left is written back.
Result<long> sys_select(Thread& thread, const SyscallArgs& args) {
    std::optional<struct timespec> timeout;
    if (args.address(4)) {
        auto value = TRY(read_user<struct timeval>(thread, args.address(4)));
        if (value.tv_sec < 0 || value.tv_usec < 0)
            return Error(EINVAL, "invalid timeout");
        // As Linux, microseconds past a second carry into the seconds.
        timeout =
            timespec{value.tv_sec + value.tv_usec / 1000000, (value.tv_usec % 1000000) * 1000};
    }
    const uint64_t sets[3] = {args.address(1), args.address(2), args.address(3)};
    return select_fds(thread, args.integer(0), sets, timeout, std::nullopt, args.address(4), true);
}

// Pselect6 implements Linux syscall pselect6(2): the sixth argument points
// to {const sigset_t* mask; size_t size}.
Result<long> sys_pselect6(Thread& thread, const SyscallArgs& args) {
    std::optional<struct timespec> timeout;
    if (args.address(4))
        timeout = TRY(read_timeout(thread, args.address(4)));
    std::optional<uint64_t> mask;
    if (args.address(5)) {
        struct MaskArgument {
            uint64_t address;
            uint64_t size;
        };
        auto mask_argument = TRY(read_user<MaskArgument>(thread, args.address(5)));
        mask = TRY(read_signal_mask(thread, mask_argument.address, mask_argument.size));
    }
    const uint64_t sets[3] = {args.address(1), args.address(2), args.address(3)};
    return select_fds(thread, args.integer(0), sets, timeout, mask, args.address(4), false);
}

}  // namespace myst::kernel
