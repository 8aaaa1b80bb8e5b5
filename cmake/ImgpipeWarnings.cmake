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

# IMGPIPE_SANITIZE: "address,undefined" (ON is the same) or "thread". Every target built here
# is instrumented; IMGPIPE_SANITIZED tells tests that bound memory or time to allow for it
# (ASan's shadow memory and quarantine add to RSS).
set(IMGPIPE_SANITIZERS "")
if(IMGPIPE_SANITIZE MATCHES "^(ON|on|On|TRUE|true|YES|yes|1)$")
  set(IMGPIPE_SANITIZERS "address,undefined")
elseif(IMGPIPE_SANITIZE)
  set(IMGPIPE_SANITIZERS "${IMGPIPE_SANITIZE}")
endif()
if(IMGPIPE_SANITIZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang|GNU")
    message(FATAL_ERROR "IMGPIPE_SANITIZE needs clang or GCC")
  endif()
  add_compile_options(-fsanitize=${IMGPIPE_SANITIZERS} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${IMGPIPE_SANITIZERS})
  if(IMGPIPE_SANITIZERS MATCHES "undefined")
    # A UBSan report fails the test instead of scrolling past.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(IMGPIPE_SANITIZERS MATCHES "address")
    add_compile_definitions(IMGPIPE_SANITIZED=1)
  elseif(IMGPIPE_SANITIZERS MATCHES "thread")
    add_compile_definitions(IMGPIPE_SANITIZED=2)
  endif()
endif()
