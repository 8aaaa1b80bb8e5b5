// Where libimgpipe links libvips (IMGPIPE_LAZY_VIPS off), it is always there.
#include "vips.hpp"

namespace imgpipe::detail {

bool vips_loadable(std::string*) {
  return true;
}

}  // namespace imgpipe::detail
