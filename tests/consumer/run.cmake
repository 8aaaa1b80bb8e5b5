# Builds and runs imgpipe the ways an outside project does:
#   1. `cmake --install` into a private prefix, which is then moved (an install is relocatable);
#   2. examples/ with find_package(imgpipe CONFIG) against the moved prefix;
#   3. the same examples against the build tree (-Dimgpipe_DIR=<build>, no install);
#   4. a program compiled with `pkg-config --cflags --libs imgpipe` from the moved prefix;
#   5. the installed CLI from the moved prefix, with no LD_LIBRARY_PATH ($ORIGIN RPATH);
#   6. the installed Python package, when it was built.
file(REMOVE_RECURSE ${WORK_DIR})
set(installed ${WORK_DIR}/installed)
set(prefix ${WORK_DIR}/moved)
set(ENV{LD_LIBRARY_PATH} "")

include(${CMAKE_CURRENT_LIST_DIR}/run_checked.cmake)

function(expect_file path what)
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "${what} wrote no ${path}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${installed})
file(RENAME ${installed} ${prefix})
file(GLOB libdirs LIST_DIRECTORIES true ${prefix}/lib ${prefix}/lib64 ${prefix}/lib/*-linux-gnu)
list(GET libdirs 0 libdir)

# 2 and 3: find_package from the moved install, then from the build tree. The examples find
# libimgpipe at run time through LD_LIBRARY_PATH: an outside project's binaries carry no RPATH
# of ours.
foreach(kind install build)
  if(kind STREQUAL "install")
    set(where -DCMAKE_PREFIX_PATH=${prefix})
    set(ENV{LD_LIBRARY_PATH} "${libdir}")
  else()
    set(where -Dimgpipe_DIR=${BINARY_DIR})
    set(ENV{LD_LIBRARY_PATH} "${BINARY_DIR}/lib")
  endif()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples -B ${WORK_DIR}/examples-${kind} -DCMAKE_BUILD_TYPE=Release ${where})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/examples-${kind} -j2)
  run(${WORK_DIR}/examples-${kind}/chain_example ${SOURCE_DIR}/examples/images/rocket.jpg ${WORK_DIR}/${kind}.webp)
  expect_file(${WORK_DIR}/${kind}.webp "chain_example (${kind})")
  run(${WORK_DIR}/examples-${kind}/yaml_example ${SOURCE_DIR}/examples/default.yaml
      ${SOURCE_DIR}/examples/images/chelsea.png ${WORK_DIR}/${kind}-yaml.webp)
  expect_file(${WORK_DIR}/${kind}-yaml.webp "yaml_example (${kind})")
endforeach()

# 4: pkg-config, whose prefix comes from the file's own folder.
set(ENV{PKG_CONFIG_PATH} "${libdir}/pkgconfig")
run(pkg-config --cflags --libs imgpipe)
string(STRIP "${LAST_OUTPUT}" flags)
string(FIND "${flags}" "-I${prefix}/" include_at)
string(FIND "${flags}" "-L${prefix}/" lib_at)
if(include_at EQUAL -1 OR lib_at EQUAL -1)
  message(FATAL_ERROR "pkg-config imgpipe does not point into the moved prefix ${prefix}: ${flags}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
find_program(CXX NAMES c++ g++ clang++ REQUIRED)
run(${CXX} -std=c++20 -O1 ${SOURCE_DIR}/examples/chain_example.cpp -o ${WORK_DIR}/pkg_config_example ${flags})
set(ENV{LD_LIBRARY_PATH} "${libdir}")
run(${WORK_DIR}/pkg_config_example ${SOURCE_DIR}/examples/images/rocket.jpg ${WORK_DIR}/pkg-config.webp)
expect_file(${WORK_DIR}/pkg-config.webp "the pkg-config build")

# 5: the installed CLI finds its library through $ORIGIN/../lib.
set(ENV{LD_LIBRARY_PATH} "")
if(EXISTS ${prefix}/bin/imgpipe)
  run(${prefix}/bin/imgpipe run ${SOURCE_DIR}/examples/default.yaml ${SOURCE_DIR}/examples/images/rocket.jpg
      ${WORK_DIR}/cli.webp)
  expect_file(${WORK_DIR}/cli.webp "the installed imgpipe")
  run(${prefix}/bin/imgpipe --version)
  if(NOT LAST_OUTPUT MATCHES "imgpipe ")
    message(FATAL_ERROR "the installed imgpipe --version said: ${LAST_OUTPUT}")
  endif()
endif()

# 6: the Python package from the same install, found through its RPATH.
if(PYTHON)
  set(ENV{PYTHONPATH} "${prefix}/${PYTHON_SITE}")
  run(${PYTHON} -c "import imgpipe, sys; assert imgpipe.__file__.startswith(sys.argv[1]), imgpipe.__file__; \
image = imgpipe.load(sys.argv[2]); out = imgpipe.Chain([{'resize': {'width': 64}}]).run(image); \
assert (out.width, out.channels) == (64, 3); print(imgpipe.__version__)"
      ${prefix} ${SOURCE_DIR}/examples/images/rocket.jpg)
endif()
message(STATUS "consumer build and run: ok")
