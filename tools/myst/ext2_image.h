// The plain `myst mkext2` layout of a tree, for other commands that build
// images (appbuilder): [EXT2 | HASH TREE | FSSIG], unencrypted and unsigned.
#pragma once

#include "image/fs_tree.h"
#include "image/verity.h"
#include "tools/myst/host_file.h"
#include "tools/myst/progress.h"

namespace myst::tools {

Result<image::VerityBuildResult> write_verity_ext2(const image::TreeNode& tree, HostFile& out,
                                                   ProgressLine& progress);

}  // namespace myst::tools
