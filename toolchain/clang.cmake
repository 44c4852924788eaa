# CMake toolchain file: the pinned consumer LLVM (clang-22 + lld). Use with
#   cmake -DCMAKE_TOOLCHAIN_FILE=<this file> ...
# RELINK_LLVM_MAJOR may be set to override the major version read from pin.json.
if(NOT DEFINED RELINK_LLVM_MAJOR)
  file(READ "${CMAKE_CURRENT_LIST_DIR}/pin.json" _relink_pin)
  string(JSON RELINK_LLVM_MAJOR GET "${_relink_pin}" consumer_llvm major)
endif()

find_program(RELINK_CLANG NAMES clang-${RELINK_LLVM_MAJOR} REQUIRED)
find_program(RELINK_CLANGXX NAMES clang++-${RELINK_LLVM_MAJOR} REQUIRED)
find_program(RELINK_LLVM_AR NAMES llvm-ar-${RELINK_LLVM_MAJOR} REQUIRED)
find_program(RELINK_LLVM_RANLIB NAMES llvm-ranlib-${RELINK_LLVM_MAJOR} REQUIRED)
find_program(RELINK_LLD NAMES ld.lld-${RELINK_LLVM_MAJOR} REQUIRED)

set(CMAKE_C_COMPILER "${RELINK_CLANG}")
set(CMAKE_CXX_COMPILER "${RELINK_CLANGXX}")
set(CMAKE_AR "${RELINK_LLVM_AR}")
set(CMAKE_RANLIB "${RELINK_LLVM_RANLIB}")
# lld of the same major reads the same bitcode as clang; --ld-path avoids picking another ld.lld.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${RELINK_LLD}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${RELINK_LLD}")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-fuse-ld=lld --ld-path=${RELINK_LLD}")
