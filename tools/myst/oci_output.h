// OCI image layouts for Kubernetes and other OCI runtimes: one gzip layer
// holding a packaged executable (`myst package --oci`) as the entrypoint.
#pragma once

#include <string>

#include "base/result.h"

namespace myst::tools {

struct OciImageOptions {
    std::string directory;        // the layout to write (must not exist)
    std::string executable_path;  // host file put in the layer
    std::string name;             // stored as /myst/bin/<name>, the entrypoint
    std::string tag = "latest";   // org.opencontainers.image.ref.name
};

// Writes the layout beside `directory` and renames it into place at the end,
// so a failure leaves nothing. Returns the manifest digest ("sha256:...").
Result<std::string> write_oci_image(const OciImageOptions& options);

}  // namespace myst::tools
