#pragma once

#include <string>

#include "image/fs_tree.h"

namespace myst::tools {

// Reads a host directory into a tree (lstat, never following symlinks).
// Children are sorted bytewise so the images built from it are reproducible.
Result<image::TreeNode> scan_directory(const std::string& path);

}  // namespace myst::tools
