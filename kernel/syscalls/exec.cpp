// Running a new program: execve and execveat. The new image is loaded into
// a memory space of its own beside the others (DESIGN decision 4); only
// when it is loaded does the process give up its old image, so a failed
// exec returns to the caller unchanged. `#!` scripts run their
// interpreter from the image, as Linux's binfmt_script.
#include <fcntl.h>
#include <signal.h>

#include <cstring>

#include "entry/entry.h"
#include "kernel/capabilities.h"
#include "kernel/elf_loader.h"
#include "kernel/fs_context.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/process_lifecycle.h"
#include "kernel/process_table.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr size_t max_argument_length = 32 * page_size;  // Linux's MAX_ARG_STRLEN
constexpr size_t max_argument_bytes = 2u << 20;         // a quarter of an 8 MiB stack
constexpr int max_script_depth = 4;                     // Linux's BINPRM_MAX_RECURSION
constexpr size_t script_line_limit = 256;               // Linux's BINPRM_BUF_SIZE

// argv or envp: a NULL-terminated array of strings (a NULL array is empty).
Result<std::vector<std::string>> read_string_array(Thread& thread, uint64_t address) {
    std::vector<std::string> strings;
    size_t total = 0;
    for (uint64_t cursor = address; cursor != 0; cursor += 8) {
        uint64_t pointer = TRY(read_user<uint64_t>(thread, cursor));
        if (pointer == 0)
            break;
        auto text = copy_string_from_user(thread, pointer, max_argument_length);
        if (text.is_error())
            return text.error().code() == ENAMETOOLONG ? Error(E2BIG, "argument too long")
                                                       : text.release_error();
        total += text.value().size() + 1 + 8;
        if (total > max_argument_bytes)
            return Error(E2BIG, "argument list too long");
        strings.push_back(text.release_value());
    }
    return strings;
}

// binfmt_script: "#!interpreter [one argument]" on the first line makes
// the interpreter the program, with the script's path after its argument.
// Returns false when the file is not a script.
Result<bool> resolve_script(Thread& thread, ExecRequest& request) {
    ExecutableFile file = TRY(open_executable(thread, request.path));
    char line[script_line_limit + 1] = {};
    size_t length = TRY(file.file->pread(
        {reinterpret_cast<uint8_t*>(line), std::min<uint64_t>(file.size, script_line_limit)}, 0));
    if (length < 2 || line[0] != '#' || line[1] != '!')
        return false;
    std::string text(line + 2, length - 2);
    size_t newline = text.find('\n');
    if (newline == std::string::npos && length == script_line_limit)
        return Error(ENOEXEC, request.path + ": interpreter line too long");
    text = text.substr(0, newline);
    auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
    size_t start = 0;
    while (start < text.size() && is_blank(text[start]))
        ++start;
    size_t end = start;
    while (end < text.size() && !is_blank(text[end]))
        ++end;
    std::string interpreter = text.substr(start, end - start);
    if (interpreter.empty())
        return Error(ENOEXEC, request.path + ": no interpreter after #!");
    size_t argument_start = end;
    while (argument_start < text.size() && is_blank(text[argument_start]))
        ++argument_start;
    size_t argument_end = text.size();
    while (argument_end > argument_start && is_blank(text[argument_end - 1]))
        --argument_end;
    std::vector<std::string> arguments{interpreter};
    if (argument_end > argument_start)
        arguments.push_back(text.substr(argument_start, argument_end - argument_start));
    arguments.push_back(request.path);
    for (size_t i = 1; i < request.arguments.size(); ++i)
        arguments.push_back(request.arguments[i]);
    request.arguments = std::move(arguments);
    request.path = interpreter;
    return true;
}

// The threads other than the caller leave before the old image goes: they
// may be running its code. Each is interrupted and ends at its next kernel
// entry; a thread in a host call no signal ends is waited for.
void end_other_threads(Thread& thread) {
    Process& process = thread.process();
    Kernel& kernel = thread.kernel();
    for (auto& [tid, other] : process.threads()) {
        if (other.get() == &thread || other->exit_started || other->exit_requested)
            continue;
        other->exit_requested = true;
        if (other->host_tid != 0)
            (void)kernel.target().thread_interrupt(other->host_tid, entry::interrupt_signal);
    }
    while (process.threads().size() > 1) {
        BlockingScope waiting(thread);
        (void)kernel.target().sleep(CLOCK_MONOTONIC, false, timespec{0, 1000000}, nullptr, nullptr);
    }
}

// The registers a new program starts with: all zero but the stack pointer
// and entry point, the initial FPU state, and no TLS.
void reset_registers(ucontext_t& context, const LoadedProgram& program) {
    greg_t* registers = context.uc_mcontext.gregs;
    greg_t segments = registers[REG_CSGSFS];
    std::memset(registers, 0, sizeof(gregset_t));
    registers[REG_CSGSFS] = segments;
    registers[REG_EFL] = 0x202;  // IF, and the reserved bit 1
    registers[REG_RIP] = static_cast<greg_t>(program.entry_point);
    registers[REG_RSP] = static_cast<greg_t>(program.stack_pointer);
    if (fpregset_t fpu = context.uc_mcontext.fpregs) {
        std::memset(fpu, 0, sizeof *fpu);
        fpu->cwd = 0x37f;
        fpu->mxcsr = 0x1f80;
        fpu->mxcr_mask = 0xffff;
    }
    entry::current_entry_state().program_fs = 0;
}

// Past this point exec cannot fail: the process becomes the new program.
// `old_image`: set when the program was loaded by turns (the process has
// its new image already, in the space that held the program's range).
void become_program(Thread& thread, const ExecRequest& request, const LoadedProgram& program,
                    const std::string& name, std::shared_ptr<MemoryImage> old_image) {
    Kernel& kernel = thread.kernel();
    Process& process = thread.process();
    end_other_threads(thread);
    SpaceId old_space = process.space;
    process.space = request.space;
    if (old_image) {
        kernel.memory_turns().drop_image(std::move(old_image));
    } else {
        kernel.memory_turns().leave_image(process);
        process.image = std::make_shared<MemoryImage>();
    }
    if (old_space != process.space && !kernel.processes().space_in_use(old_space, &process))
        kernel.memory().release_space(old_space);
    kernel.memory().claim_break(process.space);
    process.did_exec = true;
    release_waiting_parent(kernel, process);
    process.fs().fds.close_on_exec_all();
    process.reset_signal_handlers();
    process.delete_posix_timers();
    process.dumpable = true;
    thread.signal_stack = stack_t{nullptr, SS_DISABLE, 0};
    thread.robust_list = thread.robust_list_size = 0;
    thread.clear_child_tid = 0;
    thread.program_calls.clear();  // the functions they would return to are gone
    thread.name = name.substr(0, 15);
    process.set_executable_path(program.executable_path);
    process.set_command_line(request.arguments, request.environment);
    reset_registers(*thread.context, program);
}

struct LoadedByTurns {
    LoadedProgram program;
    std::shared_ptr<MemoryImage> old_image;  // for become_program to drop
};

// A fixed-address program whose range a program space holds (the
// process's own, or another process's): loaded into a new image of that
// space, which takes turns with the image there (kernel/memory_image.h).
// On failure the process has its old image back, and the caller answers
// with its first error.
Result<LoadedByTurns> load_by_turns(Thread& thread, ExecRequest& request,
                                    const ExecutableReader& reader, uint64_t taken_address) {
    Kernel& kernel = thread.kernel();
    std::optional<SpaceId> holder = kernel.memory().space_holding(taken_address);
    if (!holder)
        return Error(ENOMEM, "no program holds the range");
    std::shared_ptr<MemoryImage> old_image =
        kernel.memory_turns().enter_empty_image(thread, *holder);
    if (!old_image)
        return Error(ENOMEM, "no process uses the space holding the range");
    request.space = *holder;
    kernel.memory().restart_break(request.space);
    auto program = load_program(kernel.memory(), reader, request);
    if (program.is_error()) {
        kernel.memory_turns().return_to_image(thread, std::move(old_image));
        request.space = kernel_space;
        return program.release_error();
    }
    return LoadedByTurns{program.release_value(), std::move(old_image)};
}

Result<long> exec_program(Thread& thread, std::string path, std::vector<std::string> arguments,
                          std::vector<std::string> environment) {
    Kernel& kernel = thread.kernel();
    ExecRequest request;
    request.path = std::move(path);
    request.arguments = std::move(arguments);
    request.environment = std::move(environment);
    std::string name = request.path.substr(request.path.rfind('/') + 1);
    for (int depth = 0; TRY(resolve_script(thread, request)); ++depth)
        if (depth == max_script_depth)
            return Error(ELOOP, "too many levels of #! interpreters");
    uint64_t stack_limit = thread.process().limits()[RLIMIT_STACK].rlim_cur;
    request.stack_size = page_align_up(std::clamp<uint64_t>(stack_limit, 128 << 10, 8ull << 20));
    request.vdso = kernel.target().vdso_address();
    set_identity(request, thread.process().credentials());
    TRY(kernel.target().random_bytes(request.random));
    request.space = kernel.allocate_space();
    auto reader = [&](const std::string& file) { return open_executable(thread, file); };
    auto program = load_program(kernel.memory(), reader, request);
    std::shared_ptr<MemoryImage> old_image;
    std::optional<uint64_t> taken =
        program.is_error() ? taken_fixed_address(program.error()) : std::nullopt;
    if (taken && running_threads(thread.process()) <= 1) {
        kernel.memory().release_space(request.space);
        request.space = kernel_space;  // nothing of its own to release
        if (auto by_turns = load_by_turns(thread, request, reader, *taken); !by_turns.is_error()) {
            old_image = by_turns.value().old_image;
            program = std::move(by_turns.value().program);
        }
    }
    if (program.is_error()) {
        if (request.space != kernel_space)
            kernel.memory().release_space(request.space);
        // ENOMEM alone cannot say that a fixed-address program's range is
        // taken (by another process of the one address space) or the budget
        // is spent: the operator gets the reason once per failed exec.
        if (program.error().code() == ENOMEM)
            kernel.target().write_diagnostic("myst: execve: " + program.error().message());
        return program.release_error();
    }
    become_program(thread, request, program.value(), name, std::move(old_image));
    capabilities_at_exec(thread.process().credentials());
    thread.process().mlockall_flags = 0;  // memory locks go with the old image
    return 0;
}

}  // namespace

// Execve implements Linux syscall execve(2).
Result<long> sys_execve(Thread& thread, const SyscallArgs& args) {
    std::string path = TRY(path_argument(thread, args.address(0)));
    auto arguments = TRY(read_string_array(thread, args.address(1)));
    auto environment = TRY(read_string_array(thread, args.address(2)));
    return exec_program(thread, std::move(path), std::move(arguments), std::move(environment));
}

// Execveat implements Linux syscall execveat(2): the path is relative to
// dirfd, or dirfd itself with AT_EMPTY_PATH; AT_SYMLINK_NOFOLLOW refuses a
// final symlink (ELOOP).
Result<long> sys_execveat(Thread& thread, const SyscallArgs& args) {
    int flags = args.integer(4);
    if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return Error(EINVAL, "bad execveat flags");
    const Credentials& credentials = thread.process().credentials();
    fs::PathRef node = TRY(resolve_at(thread, args.integer(0), args.address(1), flags,
                                      {credentials.fsuid, credentials.fsgid}));
    struct stat st = TRY(node->inode()->stat());
    if (S_ISLNK(st.st_mode))
        return Error(ELOOP, "execveat of a symlink with AT_SYMLINK_NOFOLLOW");
    auto arguments = TRY(read_string_array(thread, args.address(2)));
    auto environment = TRY(read_string_array(thread, args.address(3)));
    std::string path = node->to_string(thread.process().fs().root().get());
    return exec_program(thread, std::move(path), std::move(arguments), std::move(environment));
}

}  // namespace myst::kernel
