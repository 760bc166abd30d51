// Administering the machine: the system's names, the clock and the kernel
// log. The kernel keeps its own names and log level (kernel.h's
// SystemSettings), changed with Linux's CAP_SYS_ADMIN/CAP_SYSLOG rules.
// The clock is the host's: myst never sets it, so every change is EPERM,
// as for a container without CAP_SYS_TIME, after Linux's argument checks.
#include <linux/capability.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

#include <cstring>

#include "kernel/capabilities.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/signal_delivery.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr int uts_name_length = 64;  // __NEW_UTS_LEN
constexpr long nanoseconds = 1000000000;
// settimeofday's upper bound on seconds (Linux's TIME_SETTOD_SEC_MAX).
constexpr int64_t settod_seconds_max = INT64_MAX / nanoseconds - 30LL * 365 * 24 * 3600;
// The kernel log's size, as Linux's default CONFIG_LOG_BUF_SHIFT (17).
constexpr long log_buffer_size = 1 << 17;
// adjtimex's ADJ_ADJTIME and ADJ_OFFSET_READONLY, the kernel's own bits
// of ADJ_OFFSET_SINGLESHOT and ADJ_OFFSET_SS_READ.
constexpr unsigned adj_adjtime = 0x8000, adj_offset_readonly = 0x2000;

// sethostname/setdomainname: up to 64 bytes, CAP_SYS_ADMIN first; the
// name ends at its first NUL, as uname(2) reads it.
Result<long> set_system_name(Thread& thread, const SyscallArgs& args, std::string& name) {
    if (!capable(thread.process().credentials(), CAP_SYS_ADMIN))
        return Error(EPERM, "changing the system's names needs CAP_SYS_ADMIN");
    int length = args.integer(1);
    if (length < 0 || length > uts_name_length)
        return Error(EINVAL, "bad name length");
    char buffer[uts_name_length] = {};
    TRY(copy_from_user(thread, buffer, args.address(0), length));
    name.assign(buffer, strnlen(buffer, length));
    return 0;
}

bool settable_time(const struct timespec& time) {
    return time.tv_sec >= 0 && time.tv_nsec >= 0 && time.tv_nsec < nanoseconds &&
           time.tv_sec < settod_seconds_max;
}

// adjtimex on CLOCK_REALTIME: only queries are served (no CAP_SYS_TIME).
// The state reported is the host clock's as the kernel sees it: in sync
// (TIME_OK), with Linux's untouched NTP values.
Result<long> adjust_realtime(Thread& thread, uint64_t address) {
    auto request = TRY(read_user<struct timex>(thread, address));
    unsigned modes = request.modes;
    if (modes & adj_adjtime) {
        if (!(modes & 1))  // ADJ_OFFSET_SINGLESHOT alone
            return Error(EINVAL, "ADJ_ADJTIME with other modes");
        if (!(modes & adj_offset_readonly))
            return Error(EPERM, "adjusting the clock needs CAP_SYS_TIME");
    } else if (modes != 0) {
        return Error(EPERM, "adjusting the clock needs CAP_SYS_TIME");
    }
    struct timespec now = TRY(thread.kernel().target().clock_time(CLOCK_REALTIME));
    struct timex state {};
    state.modes = request.modes;
    state.maxerror = state.esterror = 16000000;  // NTP_PHASE_LIMIT, in microseconds
    state.constant = 2;
    state.precision = 1;
    state.tolerance = 500 << 16;  // MAXFREQ: 500 ppm, scaled
    state.time = {now.tv_sec, now.tv_nsec / 1000};
    state.tick = 1000000 / 100;  // USER_HZ
    TRY(write_user(thread, address, state));
    return TIME_OK;
}

}  // namespace

// Sethostname implements Linux syscall sethostname(2).
Result<long> sys_sethostname(Thread& thread, const SyscallArgs& args) {
    return set_system_name(thread, args, thread.kernel().system.hostname);
}

// Setdomainname implements Linux syscall setdomainname(2).
Result<long> sys_setdomainname(Thread& thread, const SyscallArgs& args) {
    return set_system_name(thread, args, thread.kernel().system.domainname);
}

// ClockSettime implements Linux syscall clock_settime(2): only
// CLOCK_REALTIME is settable (EINVAL for the others, then EFAULT, then
// EINVAL for a bad time); setting it is EPERM.
Result<long> sys_clock_settime(Thread& thread, const SyscallArgs& args) {
    if (args.integer(0) != CLOCK_REALTIME)
        return Error(EINVAL, "clock cannot be set");
    auto time = TRY(read_user<struct timespec>(thread, args.address(1)));
    if (!settable_time(time))
        return Error(EINVAL, "bad time");
    return Error(EPERM, "myst does not set the host's clock");
}

// Settimeofday implements Linux syscall settimeofday(2): the arguments are
// checked as Linux does, then the change is EPERM (the time zone too).
Result<long> sys_settimeofday(Thread& thread, const SyscallArgs& args) {
    if (args.address(0)) {
        auto time = TRY(read_user<struct timeval>(thread, args.address(0)));
        if (time.tv_usec < 0 || time.tv_usec > 1000000)
            return Error(EINVAL, "bad microseconds");
        if (!settable_time({time.tv_sec, time.tv_usec * 1000}))
            return Error(EINVAL, "bad time");
    }
    if (args.address(1))
        TRY(read_user<struct timezone>(thread, args.address(1)));
    return Error(EPERM, "myst does not set the host's clock");
}

// Adjtimex implements Linux syscall adjtimex(2): queries (modes 0 or
// ADJ_OFFSET_SS_READ) are served, every adjustment is EPERM.
Result<long> sys_adjtimex(Thread& thread, const SyscallArgs& args) {
    return adjust_realtime(thread, args.address(0));
}

// ClockAdjtime implements Linux syscall clock_adjtime(2): CLOCK_REALTIME
// as adjtimex(2); the other clocks cannot be adjusted (EOPNOTSUPP).
Result<long> sys_clock_adjtime(Thread& thread, const SyscallArgs& args) {
    TRY(read_user<struct timex>(thread, args.address(1)));
    clockid_t clock = args.integer(0);
    if (clock == CLOCK_REALTIME)
        return adjust_realtime(thread, args.address(1));
    if (clock >= CLOCK_MONOTONIC && clock <= CLOCK_TAI && clock != 10)  // 10: gone SGI clock
        return Error(EOPNOTSUPP, "clock cannot be adjusted");
    return Error(EINVAL, "unknown clock");
}

// Syslog implements Linux syscall syslog(2) on the kernel's log, which is
// kept empty (the kernel's messages go to the operator's stderr). As with
// dmesg_restrict=1, every action needs CAP_SYSLOG (or CAP_SYS_ADMIN).
Result<long> sys_syslog(Thread& thread, const SyscallArgs& args) {
    const Credentials& credentials = thread.process().credentials();
    if (!capable(credentials, CAP_SYSLOG) && !capable(credentials, CAP_SYS_ADMIN))
        return Error(EPERM, "reading the kernel log needs CAP_SYSLOG");
    int length = args.integer(2);
    SystemSettings& system = thread.kernel().system;
    switch (args.integer(0)) {
        case 0:  // SYSLOG_ACTION_CLOSE
        case 1:  // SYSLOG_ACTION_OPEN
        case 5:  // SYSLOG_ACTION_CLEAR
            return 0;
        case 2:  // SYSLOG_ACTION_READ: waits for a message, which never comes
            if (args.address(1) == 0 || length < 0)
                return Error(EINVAL, "bad buffer");
            if (length == 0)
                return 0;
            while (true)
                TRY(wait_for_signal(thread, nullptr));
        case 3:  // SYSLOG_ACTION_READ_ALL
        case 4:  // SYSLOG_ACTION_READ_CLEAR: nothing to copy
            if (args.address(1) == 0 || length < 0)
                return Error(EINVAL, "bad buffer");
            return 0;
        case 6:  // SYSLOG_ACTION_CONSOLE_OFF
            if (system.saved_console_loglevel == -1)
                system.saved_console_loglevel = system.console_loglevel;
            system.console_loglevel = 1;  // minimum_console_loglevel
            return 0;
        case 7:  // SYSLOG_ACTION_CONSOLE_ON
            if (system.saved_console_loglevel != -1) {
                system.console_loglevel = system.saved_console_loglevel;
                system.saved_console_loglevel = -1;
            }
            return 0;
        case 8:  // SYSLOG_ACTION_CONSOLE_LEVEL
            if (length < 1 || length > 8)
                return Error(EINVAL, "bad console level");
            system.console_loglevel = length;
            system.saved_console_loglevel = -1;
            return 0;
        case 9:  // SYSLOG_ACTION_SIZE_UNREAD
            return 0;
        case 10:  // SYSLOG_ACTION_SIZE_BUFFER
            return log_buffer_size;
        default:
            return Error(EINVAL, "unknown syslog action");
    }
}

}  // namespace myst::kernel
