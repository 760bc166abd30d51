// The ELF loader (kernel/elf_loader.h) over files in a ramfs: every kind of
// bad executable is a clean ENOEXEC (or ENOENT for a missing interpreter)
// naming the path; real programs compiled here (static-pie, static non-PIE,
// dynamic with the host's ld.so copied in) load with the initial stack
// Linux builds. The programs are never run.
#include "kernel/elf_loader.h"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fs/ramfs/ramfs.h"
#include "fs/vfs/vfs.h"
#include "kernel/fs_context.h"
#include "target/linux_target.h"
#include "tests/unit/fs_test_helpers.h"
#include "tests/unit/test_support.h"

namespace myst::kernel {
namespace {

using test::error_code;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t MiB = 1ull << 20;

// The programs the tests load, compiled once for the whole suite.
struct Programs {
    test::TempDir dir;
    Bytes static_pie;
    Bytes static_fixed;  // ET_EXEC at 0x400000
    Bytes dynamic;       // PIE with PT_INTERP
    std::string interpreter_path;
    Bytes interpreter;
    std::string failure;  // why building them failed, empty when fine
};

Programs* programs = nullptr;

Bytes compile(const std::string& flags, const std::string& name) {
    const std::string source = "int main(int argc, char** argv) { return argc + (argv != 0); }";
    std::string output = programs->dir.path(name);
    auto result = test::run_command("printf '%s' '" + source + "' | gcc " + flags + " -x c - -o '" +
                                    output + "'");
    if (result.status != 0) {
        programs->failure += "gcc " + flags + ": " + result.output + "\n";
        return {};
    }
    return test::read_file(output);
}

Elf64_Ehdr header_of(const Bytes& bytes) {
    Elf64_Ehdr header{};
    if (bytes.size() >= sizeof header)
        std::memcpy(&header, bytes.data(), sizeof header);
    return header;
}

std::vector<Elf64_Phdr> segments_of(const Bytes& bytes) {
    Elf64_Ehdr header = header_of(bytes);
    std::vector<Elf64_Phdr> segments(header.e_phnum);
    if (header.e_phoff + segments.size() * sizeof(Elf64_Phdr) <= bytes.size())
        std::memcpy(segments.data(), bytes.data() + header.e_phoff,
                    segments.size() * sizeof(Elf64_Phdr));
    return segments;
}

std::string interpreter_of(const Bytes& bytes) {
    for (const Elf64_Phdr& p : segments_of(bytes))
        if (p.p_type == PT_INTERP)
            return std::string(reinterpret_cast<const char*>(bytes.data() + p.p_offset));
    return "";
}

// The file offset of virtual address `vaddr` (unbiased), or 0 if no segment holds it.
uint64_t file_offset_of(const Bytes& bytes, uint64_t vaddr) {
    for (const Elf64_Phdr& p : segments_of(bytes))
        if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr < p.p_vaddr + p.p_filesz)
            return p.p_offset + (vaddr - p.p_vaddr);
    return 0;
}

class ElfLoaderTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        programs = new Programs;
        programs->static_pie = compile("-static-pie -fPIE -O1", "static_pie");
        programs->static_fixed = compile("-static -no-pie -O1", "static_fixed");
        programs->dynamic = compile("-fPIE -pie -O1", "dynamic");
        programs->interpreter_path = interpreter_of(programs->dynamic);
        if (!programs->interpreter_path.empty())
            programs->interpreter = test::read_file(programs->interpreter_path);
    }
    static void TearDownTestSuite() {
        delete programs;
        programs = nullptr;
    }

    void SetUp() override {
        ASSERT_TRUE(programs->failure.empty()) << programs->failure;
        ASSERT_GT(programs->static_pie.size(), 4096u);
        auto vfs = fs::Vfs::create(fs::create_ramfs(m_clock.clock()), m_clock.clock());
        ASSERT_FALSE(vfs.is_error());
        m_vfs = vfs.release_value();
        for (const char* dir : {"/bin", "/lib64", "/lib"})
            ASSERT_FALSE(m_vfs->make_directory(m_vfs->root_lookup(), dir, 0755).is_error());
        auto memory = MemoryManager::create(m_target, 64 * MiB);
        ASSERT_FALSE(memory.is_error()) << memory.error().message();
        m_memory = memory.release_value();
        m_reader = [this](const std::string& path) {
            return open_executable(*m_vfs, m_vfs->root_lookup(), path);
        };
    }

    void install(const std::string& path, const Bytes& bytes, mode_t mode = 0755) {
        auto file = m_vfs->open(m_vfs->root_lookup(), path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        ASSERT_FALSE(file.is_error()) << path << ": " << file.error().message();
        size_t done = 0;
        while (done < bytes.size()) {
            auto wrote = file.value()->write(std::span(bytes).subspan(done));
            ASSERT_FALSE(wrote.is_error()) << wrote.error().message();
            ASSERT_GT(wrote.value(), 0u);
            done += wrote.value();
        }
    }

    ExecRequest request_for(const std::string& path) {
        ExecRequest request;
        request.path = path;
        request.arguments = {path, "-l", "second argument", ""};
        request.environment = {"HOME=/root", "PATH=/bin:/usr/bin", "EMPTY="};
        for (size_t i = 0; i < request.random.size(); ++i)
            request.random[i] = static_cast<uint8_t>(0xc0 + i);
        return request;
    }

    Result<LoadedProgram> load(const std::string& path) {
        return load_program(*m_memory, m_reader, request_for(path));
    }

    // Loads `bytes` as /bin/bad and expects a clean ENOEXEC naming the file.
    void expect_not_executable(const Bytes& bytes, const std::string& why) {
        install("/bin/bad", bytes);
        auto loaded = load("/bin/bad");
        ASSERT_TRUE(loaded.is_error()) << why;
        EXPECT_EQ(loaded.error().code(), ENOEXEC) << why << ": " << loaded.error().message();
        EXPECT_NE(loaded.error().message().find("/bin/bad"), std::string::npos)
            << why << ": " << loaded.error().message();
    }

    test::ManualClock m_clock;
    LinuxTarget m_target;
    std::unique_ptr<fs::Vfs> m_vfs;
    std::unique_ptr<MemoryManager> m_memory;
    ExecutableReader m_reader;
};

// The initial stack, read back as the program's startup code would.
struct InitialStack {
    uint64_t argc = 0;
    std::vector<std::string> arguments;
    std::vector<std::string> environment;
    std::map<uint64_t, uint64_t> aux;
};

InitialStack read_stack(uint64_t stack_pointer) {
    InitialStack stack;
    auto* words = reinterpret_cast<const uint64_t*>(stack_pointer);
    stack.argc = *words++;
    for (uint64_t i = 0; i < stack.argc; ++i)
        stack.arguments.emplace_back(reinterpret_cast<const char*>(*words++));
    EXPECT_EQ(*words++, 0u) << "argv is not NULL-terminated";
    while (*words)
        stack.environment.emplace_back(reinterpret_cast<const char*>(*words++));
    ++words;
    for (; words[0] != AT_NULL; words += 2) {
        EXPECT_EQ(stack.aux.count(words[0]), 0u) << "duplicate aux entry " << words[0];
        stack.aux[words[0]] = words[1];
    }
    return stack;
}

TEST_F(ElfLoaderTest, LoadsAStaticPieWithLinuxsInitialStack) {
    const Bytes& bytes = programs->static_pie;
    install("/bin/prog", bytes);
    ExecRequest request = request_for("/bin/prog");
    auto loaded = load_program(*m_memory, m_reader, request);
    ASSERT_FALSE(loaded.is_error()) << loaded.error().message();
    const LoadedProgram& program = loaded.value();
    Elf64_Ehdr header = header_of(bytes);
    ASSERT_EQ(header.e_type, ET_DYN);

    EXPECT_EQ(program.executable_path, "/bin/prog");
    EXPECT_GE(program.entry_point, m_memory->region_start());
    EXPECT_LT(program.entry_point, m_memory->region_end());
    uint64_t bias = program.entry_point - header.e_entry;
    EXPECT_EQ(bias % page_size, 0u);
    EXPECT_TRUE(m_memory->is_accessible(program.entry_point, 16, false));
    EXPECT_FALSE(m_memory->is_accessible(program.entry_point, 1, true));  // text is r-x
    EXPECT_GT(program.program_break, program.entry_point);
    EXPECT_EQ(program.program_break % page_size, 0u);

    // Every segment's file bytes are in memory at bias + p_vaddr, the rest zero.
    for (const Elf64_Phdr& p : segments_of(bytes)) {
        if (p.p_type != PT_LOAD)
            continue;
        ASSERT_TRUE(m_memory->is_accessible(bias + p.p_vaddr, p.p_memsz, false));
        EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(bias + p.p_vaddr),
                              bytes.data() + p.p_offset, p.p_filesz),
                  0);
        auto* bss = reinterpret_cast<const uint8_t*>(bias + p.p_vaddr + p.p_filesz);
        for (uint64_t i = 0; i < p.p_memsz - p.p_filesz; ++i)
            ASSERT_EQ(bss[i], 0) << "bss byte " << i;
        EXPECT_EQ(m_memory->is_accessible(bias + p.p_vaddr, p.p_memsz, true),
                  (p.p_flags & PF_W) != 0);
    }

    // The stack: argc, argv, NULL, envp, NULL, auxv, 16-byte aligned.
    EXPECT_EQ(program.stack_pointer % 16, 0u);
    ASSERT_TRUE(m_memory->is_accessible(program.stack_pointer, 8, true));
    EXPECT_EQ(*reinterpret_cast<const uint64_t*>(program.stack_pointer), request.arguments.size());
    InitialStack stack = read_stack(program.stack_pointer);
    EXPECT_EQ(stack.argc, 4u);
    EXPECT_EQ(stack.arguments, request.arguments);
    EXPECT_EQ(stack.environment, request.environment);

    EXPECT_EQ(stack.aux[AT_PAGESZ], page_size);
    EXPECT_EQ(stack.aux[AT_ENTRY], program.entry_point);  // no interpreter
    EXPECT_EQ(stack.aux[AT_BASE], 0u);
    EXPECT_EQ(stack.aux.count(AT_SYSINFO_EHDR), 0u);  // request.vdso is 0
    // The code at AT_ENTRY is the file's entry code.
    uint64_t entry_offset = file_offset_of(bytes, header.e_entry);
    ASSERT_NE(entry_offset, 0u);
    EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(stack.aux[AT_ENTRY]),
                          bytes.data() + entry_offset, 16),
              0);
    // AT_PHDR points at the program headers inside the image.
    EXPECT_EQ(stack.aux[AT_PHENT], sizeof(Elf64_Phdr));
    EXPECT_EQ(stack.aux[AT_PHNUM], header.e_phnum);
    ASSERT_TRUE(
        m_memory->is_accessible(stack.aux[AT_PHDR], header.e_phnum * sizeof(Elf64_Phdr), false));
    EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(stack.aux[AT_PHDR]),
                          bytes.data() + header.e_phoff, header.e_phnum * sizeof(Elf64_Phdr)),
              0);
    ASSERT_TRUE(m_memory->is_accessible(stack.aux[AT_RANDOM], 16, false));
    EXPECT_EQ(
        std::memcmp(reinterpret_cast<const void*>(stack.aux[AT_RANDOM]), request.random.data(), 16),
        0);
    ASSERT_TRUE(m_memory->is_accessible(stack.aux[AT_EXECFN], 10, false));
    EXPECT_STREQ(reinterpret_cast<const char*>(stack.aux[AT_EXECFN]), "/bin/prog");
    EXPECT_STREQ(reinterpret_cast<const char*>(stack.aux[AT_PLATFORM]), "x86_64");
    for (uint64_t type : {AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE})
        EXPECT_EQ(stack.aux.count(type), 1u) << type;

    // The strings live on the stack, above the pointer block.
    std::string maps = m_memory->format_maps();
    EXPECT_NE(maps.find("[stack]"), std::string::npos) << maps;
    EXPECT_NE(maps.find("/bin/prog"), std::string::npos) << maps;
    auto* argv = reinterpret_cast<const uint64_t*>(program.stack_pointer + 8);
    EXPECT_GT(argv[0], program.stack_pointer);
    EXPECT_TRUE(m_memory->is_accessible(argv[0], request.path.size() + 1, true));
}

TEST_F(ElfLoaderTest, PassesTheVdsoAndLoadsTwice) {
    install("/bin/prog", programs->static_pie);
    ExecRequest request = request_for("/bin/prog");
    request.vdso = m_target.vdso_address();
    request.arguments = {"prog"};
    request.environment = {};
    auto first = load_program(*m_memory, m_reader, request);
    ASSERT_FALSE(first.is_error()) << first.error().message();
    InitialStack stack = read_stack(first.value().stack_pointer);
    EXPECT_EQ(stack.arguments, std::vector<std::string>{"prog"});
    EXPECT_TRUE(stack.environment.empty());
    ASSERT_NE(request.vdso, 0u);  // Linux hosts always have one
    EXPECT_EQ(stack.aux[AT_SYSINFO_EHDR], request.vdso);
    // A second image in the same memory goes elsewhere.
    auto second = load_program(*m_memory, m_reader, request);
    ASSERT_FALSE(second.is_error()) << second.error().message();
    EXPECT_NE(second.value().entry_point, first.value().entry_point);
    EXPECT_NE(second.value().stack_pointer, first.value().stack_pointer);
}

TEST_F(ElfLoaderTest, LoadsAFixedAddressExecutable) {
    const Bytes& bytes = programs->static_fixed;
    Elf64_Ehdr header = header_of(bytes);
    ASSERT_EQ(header.e_type, ET_EXEC);
    install("/bin/fixed", bytes);
    auto loaded = load("/bin/fixed");
    ASSERT_FALSE(loaded.is_error()) << loaded.error().message();
    EXPECT_EQ(loaded.value().entry_point, header.e_entry);
    InitialStack stack = read_stack(loaded.value().stack_pointer);
    EXPECT_EQ(stack.aux[AT_ENTRY], header.e_entry);
    uint64_t entry_offset = file_offset_of(bytes, header.e_entry);
    EXPECT_EQ(
        std::memcmp(reinterpret_cast<const void*>(header.e_entry), bytes.data() + entry_offset, 16),
        0);

    // A second program wanting the same addresses: ENOMEM saying where, in hex.
    auto other_memory = MemoryManager::create(m_target, 16 * MiB);
    ASSERT_FALSE(other_memory.is_error());
    auto clash = load_program(*other_memory.value(), m_reader, request_for("/bin/fixed"));
    ASSERT_TRUE(clash.is_error());
    EXPECT_EQ(clash.error().code(), ENOMEM);
    uint64_t low = UINT64_MAX;
    for (const Elf64_Phdr& p : segments_of(bytes))
        if (p.p_type == PT_LOAD)
            low = std::min(low, page_align_down(p.p_vaddr));
    char where[32];
    std::snprintf(where, sizeof where, "0x%lx", low);
    EXPECT_NE(clash.error().message().find(where), std::string::npos) << clash.error().message();
    EXPECT_NE(clash.error().message().find("/bin/fixed"), std::string::npos);
    // exec reads the address back to find who holds it (taking turns there).
    EXPECT_EQ(taken_fixed_address(clash.error()), std::optional<uint64_t>(low));
    EXPECT_EQ(m_memory->space_holding(low), std::optional<SpaceId>(first_space));
    EXPECT_EQ(other_memory.value()->space_holding(low), std::nullopt);
    EXPECT_EQ(taken_fixed_address(Error(ENOMEM, "out of memory")), std::nullopt);
    EXPECT_EQ(taken_fixed_address(Error(ENOENT, clash.error().message())), std::nullopt);
}

TEST_F(ElfLoaderTest, LoadsADynamicProgramWithItsInterpreter) {
    ASSERT_FALSE(programs->interpreter_path.empty());
    ASSERT_FALSE(programs->interpreter.empty());
    install("/bin/dyn", programs->dynamic);
    install(programs->interpreter_path, programs->interpreter);
    auto loaded = load("/bin/dyn");
    ASSERT_FALSE(loaded.is_error()) << loaded.error().message();
    InitialStack stack = read_stack(loaded.value().stack_pointer);
    uint64_t base = stack.aux[AT_BASE];
    EXPECT_NE(base, 0u);
    EXPECT_EQ(base % page_size, 0u);
    EXPECT_GE(base, m_memory->region_start());
    EXPECT_LT(base, m_memory->region_end());
    // The interpreter runs first; AT_ENTRY is still the program's entry.
    EXPECT_EQ(loaded.value().entry_point, base + header_of(programs->interpreter).e_entry);
    Elf64_Ehdr program_header = header_of(programs->dynamic);
    EXPECT_NE(stack.aux[AT_ENTRY], loaded.value().entry_point);
    EXPECT_EQ((stack.aux[AT_ENTRY] - program_header.e_entry) % page_size, 0u);
    EXPECT_EQ(std::memcmp(reinterpret_cast<const void*>(base), programs->interpreter.data(), 64),
              0);  // the interpreter's ELF header is mapped at its base
    EXPECT_NE(m_memory->format_maps().find(programs->interpreter_path), std::string::npos);
}

TEST_F(ElfLoaderTest, MissingInterpreterIsEnoent) {
    install("/bin/dyn", programs->dynamic);
    auto loaded = load("/bin/dyn");
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error().code(), ENOENT) << loaded.error().message();
    EXPECT_NE(loaded.error().message().find(programs->interpreter_path), std::string::npos)
        << loaded.error().message();
    EXPECT_NE(loaded.error().message().find("/bin/dyn"), std::string::npos);

    // An interpreter that is not an ELF file: ENOEXEC naming it.
    install(programs->interpreter_path, Bytes{'#', '!', '/', 'x', '\n'});
    loaded = load("/bin/dyn");
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error().code(), ENOEXEC);
    EXPECT_NE(loaded.error().message().find(programs->interpreter_path), std::string::npos);
    // A fixed-address (ET_EXEC) interpreter is refused.
    install(programs->interpreter_path, programs->static_fixed);
    loaded = load("/bin/dyn");
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error().code(), ENOEXEC);
}

TEST_F(ElfLoaderTest, MissingOrUnrunnableProgram) {
    auto missing = load("/bin/nothing");
    ASSERT_TRUE(missing.is_error());
    EXPECT_EQ(missing.error().code(), ENOENT);
    EXPECT_NE(missing.error().message().find("/bin/nothing"), std::string::npos);
    install("/bin/noexec", programs->static_pie, 0644);
    EXPECT_EQ(error_code(load("/bin/noexec")), EACCES);
    EXPECT_EQ(error_code(load("/bin")), EACCES);
}

TEST_F(ElfLoaderTest, EmptyAndTextFilesAreNotExecutable) {
    expect_not_executable({}, "empty file");
    expect_not_executable({0x7f, 'E', 'L'}, "three bytes");
    std::string script = "#!/bin/sh\necho hello\n";
    expect_not_executable(Bytes(script.begin(), script.end()), "shell script");
    expect_not_executable(Bytes(4096, 'A'), "text");
    EXPECT_EQ(m_memory->committed_bytes(), 0u);  // nothing was mapped
}

TEST_F(ElfLoaderTest, WrongKindsOfElfAreNotExecutable) {
    Bytes copy = programs->static_pie;
    copy[EI_CLASS] = ELFCLASS32;
    expect_not_executable(copy, "32-bit");

    copy = programs->static_pie;
    copy[EI_DATA] = ELFDATA2MSB;
    expect_not_executable(copy, "big-endian");

    copy = programs->static_pie;
    copy[offsetof(Elf64_Ehdr, e_machine)] = EM_AARCH64;
    copy[offsetof(Elf64_Ehdr, e_machine) + 1] = 0;
    expect_not_executable(copy, "aarch64");

    copy = programs->static_pie;
    copy[offsetof(Elf64_Ehdr, e_type)] = ET_REL;
    expect_not_executable(copy, "relocatable object");

    copy = programs->static_pie;
    copy[offsetof(Elf64_Ehdr, e_phentsize)] = 32;
    expect_not_executable(copy, "odd program header size");

    copy = programs->static_pie;
    copy[offsetof(Elf64_Ehdr, e_phnum)] = 0;
    copy[offsetof(Elf64_Ehdr, e_phnum) + 1] = 0;
    expect_not_executable(copy, "no program headers");

    copy = programs->static_pie;
    for (int i = 0; i < 8; ++i)
        copy[offsetof(Elf64_Ehdr, e_phoff) + i] = 0xff;
    expect_not_executable(copy, "program headers far past the end");

    // No PT_LOAD at all: every one turned into PT_NOTE.
    copy = programs->static_pie;
    Elf64_Ehdr header = header_of(copy);
    for (int i = 0; i < header.e_phnum; ++i) {
        uint8_t* type = copy.data() + header.e_phoff + i * sizeof(Elf64_Phdr);
        if (type[0] == PT_LOAD && type[1] == 0 && type[2] == 0 && type[3] == 0)
            type[0] = PT_NOTE;
    }
    expect_not_executable(copy, "no loadable segment");
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
}

// Regression (fuzz/regressions/elf/): an ET_EXEC whose segment starts at
// address 0 was mapped there, over the page a null pointer of myst's own
// would reach. Linux refuses it (vm.mmap_min_addr): EPERM, nothing mapped.
TEST_F(ElfLoaderTest, FixedAddressExecutableBelowMmapMinAddrIsRefused) {
    Bytes bytes = programs->static_pie;  // its segments start at vaddr 0
    Elf64_Ehdr header = header_of(bytes);
    header.e_type = ET_EXEC;
    std::memcpy(bytes.data(), &header, sizeof header);
    install("/bin/at_zero", bytes);
    auto loaded = load("/bin/at_zero");
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error().code(), EPERM);
    EXPECT_NE(loaded.error().message().find("/bin/at_zero"), std::string::npos);
    EXPECT_NE(loaded.error().message().find("mmap_min_addr"), std::string::npos)
        << loaded.error().message();
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
}

// Regression (fuzz/regressions/elf/segment-end-rounds-past-2-64): a
// segment whose end lies within a page of 2^64 rounded up to 0, so the image
// was mapped too small and its bytes were copied past the mapping.
TEST_F(ElfLoaderTest, SegmentEndingPastUserMemoryIsNotExecutable) {
    Bytes copy = programs->static_pie;
    Elf64_Ehdr header = header_of(copy);
    for (int i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment;
        uint8_t* at = copy.data() + header.e_phoff + i * sizeof(Elf64_Phdr);
        std::memcpy(&segment, at, sizeof segment);
        if (segment.p_type != PT_LOAD)
            continue;
        segment.p_memsz = ~segment.p_vaddr - 1;  // ends at 2^64 - 2
        std::memcpy(at, &segment, sizeof segment);
        break;
    }
    expect_not_executable(copy, "segment ending near 2^64");
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
}

TEST_F(ElfLoaderTest, TruncatedFilesAreNotExecutable) {
    const Bytes& bytes = programs->static_pie;
    Elf64_Ehdr header = header_of(bytes);
    expect_not_executable(Bytes(bytes.begin(), bytes.begin() + 40), "truncated header");
    expect_not_executable(Bytes(bytes.begin(), bytes.begin() + 64), "header only");
    expect_not_executable(
        Bytes(bytes.begin(), bytes.begin() + static_cast<long>(header.e_phoff) + 56 + 10),
        "truncated program headers");
    expect_not_executable(Bytes(bytes.begin(), bytes.begin() + 200), "200 bytes");
    expect_not_executable(Bytes(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)),
                          "half");
    // One byte short of the end of the last loadable segment's file data.
    uint64_t data_end = 0;
    for (const Elf64_Phdr& p : segments_of(bytes))
        if (p.p_type == PT_LOAD)
            data_end = std::max(data_end, p.p_offset + p.p_filesz);
    ASSERT_GT(data_end, 64u);
    expect_not_executable(Bytes(bytes.begin(), bytes.begin() + static_cast<long>(data_end) - 1),
                          "one byte short");

    // A PT_LOAD whose p_offset + p_filesz runs past the end of a full-size file.
    Bytes copy = bytes;
    for (int i = 0; i < header.e_phnum; ++i) {
        size_t at = header.e_phoff + i * sizeof(Elf64_Phdr);
        Elf64_Phdr p;
        std::memcpy(&p, copy.data() + at, sizeof p);
        if (p.p_type == PT_LOAD) {
            p.p_filesz = copy.size() - p.p_offset + 1;
            p.p_memsz = std::max(p.p_memsz, p.p_filesz);
            std::memcpy(copy.data() + at, &p, sizeof p);
            break;
        }
    }
    expect_not_executable(copy, "segment past the end");

    // p_filesz > p_memsz, and p_vaddr/p_offset out of step.
    for (int variant = 0; variant < 2; ++variant) {
        copy = bytes;
        for (int i = 0; i < header.e_phnum; ++i) {
            size_t at = header.e_phoff + i * sizeof(Elf64_Phdr);
            Elf64_Phdr p;
            std::memcpy(&p, copy.data() + at, sizeof p);
            if (p.p_type == PT_LOAD && p.p_filesz > 0) {
                if (variant == 0)
                    p.p_memsz = p.p_filesz - 1;
                else
                    p.p_vaddr += 1;
                std::memcpy(copy.data() + at, &p, sizeof p);
                break;
            }
        }
        expect_not_executable(copy, variant == 0 ? "filesz > memsz" : "misaligned vaddr");
    }
    EXPECT_EQ(m_memory->committed_bytes(), 0u);
}

// An argument list larger than the stack must be refused (E2BIG, as
// execve(2)), not written below the stack mapping.
TEST_F(ElfLoaderTest, ArgumentsLargerThanTheStackAreE2big) {
    install("/bin/prog", programs->static_pie);
    ExecRequest request = request_for("/bin/prog");
    request.stack_size = 64 * 1024;
    request.arguments.push_back(std::string(128 * 1024, 'a'));
    auto loaded = load_program(*m_memory, m_reader, request);
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error().code(), E2BIG) << loaded.error().message();

    request.arguments.pop_back();
    request.environment.assign(10000, std::string(10, 'e'));  // many small ones too
    loaded = load_program(*m_memory, m_reader, request);
    ASSERT_TRUE(loaded.is_error());
    EXPECT_EQ(loaded.error().code(), E2BIG) << loaded.error().message();

    // A list that fits loads.
    request.environment.assign(100, std::string(10, 'e'));
    loaded = load_program(*m_memory, m_reader, request);
    ASSERT_FALSE(loaded.is_error()) << loaded.error().message();
    EXPECT_EQ(read_stack(loaded.value().stack_pointer).environment.size(), 100u);
}

}  // namespace
}  // namespace myst::kernel
