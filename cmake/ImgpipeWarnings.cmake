# Warnings on for our own targets only; dependencies' headers are included as SYSTEM.
add_library(imgpipe_warnings INTERFACE)
target_compile_options(imgpipe_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough>
  # GCC 12 reports -Wrestrict inside libstdc++ for ordinary string concatenation (GCC bug
  # 105651, fixed in 13): a false positive that would fail -Werror builds.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<BOOL:${IMGPIPE_WERROR}>:-Werror>)

if(IMGPIPE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
