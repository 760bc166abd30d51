// take_program_arguments (tools/myst/exec_arguments.h): what follows the
// program of `myst exec-linux|exec-sgx [options] <rootfs> <program>` is the
// program's, whatever it looks like; myst keeps the rest.
#include "tools/myst/exec_arguments.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace myst::tools {
namespace {

using Strings = std::vector<std::string>;

const std::set<std::string> value_options = {"--memory-size", "--app-config-path",
                                             "--strace-filter", "--mount"};

// argv as main() gets it, built from strings the test owns.
class Argv {
public:
    explicit Argv(Strings words) : m_words(std::move(words)) {
        for (std::string& word : m_words)
            m_pointers.push_back(word.data());
        m_pointers.push_back(nullptr);
        argc = static_cast<int>(m_words.size());
    }
    char** argv() { return m_pointers.data(); }
    // What myst's own parser will see.
    Strings kept() const { return Strings(m_words.begin(), m_words.begin() + argc); }

    int argc;

private:
    Strings m_words;
    std::vector<char*> m_pointers;
};

struct Split {
    Strings myst;     // argv left for myst's parser
    Strings program;  // the program's arguments
};

Split split(Strings words) {
    Argv args(std::move(words));
    Split result;
    result.program = take_program_arguments(args.argc, args.argv(), value_options);
    result.myst = args.kept();
    return result;
}

TEST(ExecArgumentsTest, ProgramArgumentsAreTakenAway) {
    Split s = split({"myst", "exec-linux", "rootfs.cpio", "/bin/ls", "-l", "/tmp"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "rootfs.cpio", "/bin/ls"}));
    EXPECT_EQ(s.program, (Strings{"-l", "/tmp"}));

    s = split({"myst", "exec-sgx", "rootfs", "/bin/prog", "a", "b"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-sgx", "rootfs", "/bin/prog"}));
    EXPECT_EQ(s.program, (Strings{"a", "b"}));
}

TEST(ExecArgumentsTest, OptionsBeforeAndBetweenThePositionals) {
    Split s = split(
        {"myst", "exec-linux", "--strace", "--memory-size", "64m", "rootfs", "/bin/ls", "-la"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "--strace", "--memory-size", "64m", "rootfs",
                               "/bin/ls"}));
    EXPECT_EQ(s.program, (Strings{"-la"}));

    // A value that looks like a positional is still the option's value.
    s = split({"myst", "exec-linux", "--app-config-path", "config.json", "--mount", "/host=/mnt",
               "rootfs", "/bin/cat", "file"});
    EXPECT_EQ(s.myst.size(), 8u);
    EXPECT_EQ(s.myst.back(), "/bin/cat");
    EXPECT_EQ(s.program, (Strings{"file"}));

    // Options may come between the rootfs and the program.
    s = split({"myst", "exec-linux", "rootfs", "--strace-filter", "open", "--strace-failing",
               "/bin/ls", "-l"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "rootfs", "--strace-filter", "open",
                               "--strace-failing", "/bin/ls"}));
    EXPECT_EQ(s.program, (Strings{"-l"}));
}

TEST(ExecArgumentsTest, EqualsFormsKeepTheirValue) {
    Split s = split({"myst", "exec-linux", "--memory-size=64m", "rootfs", "/bin/prog", "x"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "--memory-size=64m", "rootfs", "/bin/prog"}));
    EXPECT_EQ(s.program, (Strings{"x"}));

    // "--x=y" does not eat the next word.
    s = split({"myst", "exec-linux", "--strace-filter=read:write", "rootfs", "/bin/prog"});
    EXPECT_EQ(s.myst.back(), "/bin/prog");
    EXPECT_TRUE(s.program.empty());
}

TEST(ExecArgumentsTest, ProgramArgumentsThatLookLikeOptions) {
    // myst's own option names after the program belong to the program.
    Split s = split({"myst", "exec-linux", "rootfs", "/bin/prog", "--memory-size", "1g", "--strace",
                     "--help", "-", "--", ""});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "rootfs", "/bin/prog"}));
    EXPECT_EQ(s.program, (Strings{"--memory-size", "1g", "--strace", "--help", "-", "--", ""}));

    s = split({"myst", "exec-linux", "rootfs", "/bin/sh", "-c", "echo hi; ls -l"});
    EXPECT_EQ(s.program, (Strings{"-c", "echo hi; ls -l"}));

    // "--" before the positionals is myst's, not a positional.
    s = split({"myst", "exec-linux", "--", "rootfs", "/bin/prog", "-v"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "--", "rootfs", "/bin/prog"}));
    EXPECT_EQ(s.program, (Strings{"-v"}));
}

TEST(ExecArgumentsTest, NoProgramOrNoArguments) {
    Split s = split({"myst", "exec-linux", "rootfs", "/bin/prog"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "rootfs", "/bin/prog"}));
    EXPECT_TRUE(s.program.empty());

    s = split({"myst", "exec-linux", "--strace", "rootfs"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux", "--strace", "rootfs"}));
    EXPECT_TRUE(s.program.empty());

    s = split({"myst", "exec-linux"});
    EXPECT_EQ(s.myst, (Strings{"myst", "exec-linux"}));
    EXPECT_TRUE(s.program.empty());

    s = split({"myst", "exec-linux", "--help"});
    EXPECT_EQ(s.myst.size(), 3u);
    EXPECT_TRUE(s.program.empty());

    // A value option missing its value at the end: nothing taken, no overrun.
    s = split({"myst", "exec-linux", "rootfs", "--memory-size"});
    EXPECT_EQ(s.myst.size(), 4u);
    EXPECT_TRUE(s.program.empty());
    // ...or swallowing what would have been the program.
    s = split({"myst", "exec-linux", "rootfs", "--memory-size", "/bin/prog", "arg"});
    EXPECT_EQ(s.myst,
              (Strings{"myst", "exec-linux", "rootfs", "--memory-size", "/bin/prog", "arg"}));
    EXPECT_TRUE(s.program.empty());
}

TEST(ExecArgumentsTest, OtherCommandsAreLeftAlone) {
    for (Strings words : {Strings{"myst"}, Strings{"myst", "mkcpio", "dir", "out.cpio", "-x"},
                          Strings{"myst", "fssig", "--roothash", "image", "a", "b", "c"},
                          Strings{"myst", "--version"}, Strings{"myst", "help", "exec-linux"},
                          Strings{"myst", "exec", "rootfs", "/bin/prog", "-l"}}) {
        Split s = split(words);
        EXPECT_EQ(s.myst, words);
        EXPECT_TRUE(s.program.empty());
    }
}

}  // namespace
}  // namespace myst::tools
