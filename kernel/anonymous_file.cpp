#include "kernel/anonymous_file.h"

namespace myst::kernel {

Result<struct stat> AnonymousFile::stat() {
    struct stat st {};
    st.st_mode = 0600;
    st.st_nlink = 1;
    st.st_blksize = 4096;
    return st;
}

std::string AnonymousFile::describe() const {
    return std::string("anon_inode:[") + m_name + "]";
}

}  // namespace myst::kernel
