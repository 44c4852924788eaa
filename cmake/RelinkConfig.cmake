# relink's CMake package: embed a relinked CPython (libpython + chosen extension modules from a
# python-build-standalone full archive) in a C or C++ executable or library.
#
#   find_package(Relink CONFIG REQUIRED)     # -DRelink_DIR=$(relink cmake-dir), or
#                                            # CMAKE_PREFIX_PATH=<site-packages holding relink>
#   add_executable(app main.c)               # or any existing target: qt_add_executable, add_library
#   relink_target_link_python(app DISTRIBUTION /path/to/cpython-…-full.tar.zst
#                             EXTENSIONS "minimal,+_json,+math")
#
# main.c includes <relink_embed.h> and calls relink_config_use_stdlib_zip(&config, RELINK_STDLIB_ZIP_NAME):
# the stdlib travels as python3XY.zip beside the executable (copied there after each build; install it
# with the executable: its path is the target property RELINK_STDLIB_ZIP).
#
# At configure time relink runs the toolchain gate for the compiler that links the target (its linker
# language's), selects the extensions and writes config.c, config.o and a response file (`relink
# generate --format rsp`); the target links its own objects, config.o and every object and library of
# the plan through that response file, which keeps relink's link order (static libraries grouped,
# system libraries after them) that CMake's own dependency ordering would not. RELINK_COMMAND (a
# ;-list) selects the relink to run.
include_guard(GLOBAL)
cmake_minimum_required(VERSION 3.20)  # string(JSON)

# The relink command: the one installed beside this file (a wheel in <prefix>/lib/pythonX.Y/site-packages
# or <prefix>/Lib/site-packages on Windows), else `python -m relink` for the Python that
# scikit-build-core or FindPython found, else `relink` on PATH.
if(NOT RELINK_COMMAND)
  # This file is <site-packages>/relink/share/cmake/Relink/RelinkConfig.cmake in a wheel.
  get_filename_component(_relink_posix_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../../../../.." ABSOLUTE)
  get_filename_component(_relink_windows_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../../../.." ABSOLUTE)
  find_program(_relink_beside NAMES relink NO_CACHE NO_DEFAULT_PATH
               PATHS "${_relink_posix_prefix}/bin" "${_relink_windows_prefix}/Scripts")
  if(_relink_beside)
    set(_relink_command "${_relink_beside}")
  elseif(Python_EXECUTABLE)
    set(_relink_command "${Python_EXECUTABLE}" -m relink)
  elseif(Python3_EXECUTABLE)
    set(_relink_command "${Python3_EXECUTABLE}" -m relink)
  else()
    find_program(_relink_on_path NAMES relink NO_CACHE)
    if(NOT _relink_on_path)
      set(Relink_FOUND FALSE)
      set(Relink_NOT_FOUND_MESSAGE "the relink command was not found: install relink (pip install relink) or set RELINK_COMMAND")
      return()
    endif()
    set(_relink_command "${_relink_on_path}")
  endif()
  set(RELINK_COMMAND "${_relink_command}" CACHE STRING "the relink command line (a ;-list)")
endif()

# Run relink with ARGN; OUT receives its standard output. A failure stops configuration with relink's
# own one-line message (what failed and what to do).
function(_relink_run caller out)
  execute_process(COMMAND ${RELINK_COMMAND} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE stdout
                  ERROR_VARIABLE stderr OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " shown)
    message(FATAL_ERROR "${caller}: 'relink ${shown}' failed (exit ${rc}):\n${stderr}")
  endif()
  set(${out} "${stdout}" PARENT_SCOPE)
endfunction()

# relink_python_home(<variable> DISTRIBUTION <path>)
# Sets <variable> to the distribution's Python prefix (its python/install folder, extracted into
# relink's cache on this machine): a PyConfig.home for running on the build machine only. A program that
# is shipped uses the STDLIB zip of relink_target_link_python instead.
function(relink_python_home variable)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "DISTRIBUTION" "")
  if(NOT arg_DISTRIBUTION OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "usage: relink_python_home(<variable> DISTRIBUTION <path>)")
  endif()
  _relink_run(relink_python_home root extract "${arg_DISTRIBUTION}" --print-path)
  set(${variable} "${root}/python/install" PARENT_SCOPE)
endfunction()

# The language whose compiler links <target>: its LINKER_LANGUAGE if set, else CXX when the target has
# C++ sources or C is not enabled, else C (CMake's own preference order).
function(_relink_linker_language target out)
  get_target_property(language ${target} LINKER_LANGUAGE)
  if(language)
    set(${out} "${language}" PARENT_SCOPE)
    return()
  endif()
  get_property(enabled GLOBAL PROPERTY ENABLED_LANGUAGES)
  set(language C)
  if("CXX" IN_LIST enabled)
    if(NOT "C" IN_LIST enabled)
      set(language CXX)
    else()
      get_target_property(sources ${target} SOURCES)
      foreach(source IN LISTS sources)
        get_source_file_property(source_language "${source}" LANGUAGE)
        if(source_language STREQUAL "CXX" OR source MATCHES "\\.(cpp|cc|cxx|c\\+\\+|C|CPP|mm)$")
          set(language CXX)
        endif()
      endforeach()
    endif()
  endif()
  set(${out} "${language}" PARENT_SCOPE)
endfunction()

# relink_target_link_python(<target> DISTRIBUTION <path> [EXTENSIONS <spec>] [STDLIB full|<modules>|NONE]
#                           [EXPORT_DYNAMIC] [NO_COPYLEFT] [NO_LIBRARIES])
# Links the CPython of DISTRIBUTION (a full archive or extracted folder) with the extensions of <spec>
# (relink's syntax, e.g. "minimal,+_json,+math"; default "default") into an existing executable, shared
# or module library, and gives it <Python.h> and <relink_embed.h>. A static library passes all of it on
# to what links it. The gate checks, and config.c is compiled by, the compiler of the target's linker
# language. STDLIB (default full; a comma list of modules; NONE) writes the stdlib zip with `relink
# stdlib` and copies it beside the executable or library after each build. Sets the target properties
# RELINK_PLAN (plan.json: what is linked and why), RELINK_PYTHON_DIR (the distribution's python/
# folder), RELINK_STDLIB_ZIP and RELINK_PYTHON_HOME (build machine only).
function(relink_target_link_python target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "EXPORT_DYNAMIC;NO_COPYLEFT;NO_LIBRARIES" "DISTRIBUTION;EXTENSIONS;STDLIB" "")
  set(usage "usage: relink_target_link_python(<target> DISTRIBUTION <path> [EXTENSIONS <spec>] "
            "[STDLIB full|<modules>|NONE] [EXPORT_DYNAMIC] [NO_COPYLEFT] [NO_LIBRARIES])")
  if(NOT arg_DISTRIBUTION OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR ${usage} " ${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(caller "relink_target_link_python(${target})")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "${caller}: no target '${target}': create it first (add_executable, add_library, ...)")
  endif()
  get_target_property(type ${target} TYPE)
  if(NOT type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY|STATIC_LIBRARY)$")
    message(FATAL_ERROR "${caller}: a ${type} cannot link Python: use an executable or a library")
  endif()
  if(NOT arg_EXTENSIONS)
    set(arg_EXTENSIONS default)
  endif()
  if(NOT arg_STDLIB)
    set(arg_STDLIB full)
  endif()
  _relink_linker_language(${target} language)
  if(NOT CMAKE_${language}_COMPILER)
    message(FATAL_ERROR "${caller}: the target links with ${language}, which is not enabled: enable it "
                        "(project(... LANGUAGES ${language})) or set the target's LINKER_LANGUAGE")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/relink/${target}")
  set(options --extensions "${arg_EXTENSIONS}" --format rsp --cc "${CMAKE_${language}_COMPILER}")
  foreach(flag EXPORT_DYNAMIC NO_COPYLEFT NO_LIBRARIES)
    if(arg_${flag})
      string(TOLOWER "--${flag}" option)
      string(REPLACE "_" "-" option "${option}")
      list(APPEND options "${option}")
    endif()
  endforeach()
  _relink_run("${caller}" written generate "${arg_DISTRIBUTION}" -o "${out}" ${options})
  _relink_run("${caller}" root extract "${arg_DISTRIBUTION}" --print-path)
  file(READ "${out}/plan.json" plan)
  string(JSON include_dir GET "${plan}" include_dir)
  string(JSON lto GET "${plan}" lto)
  string(JSON version GET "${plan}" python_major_minor_version)

  # A static library is not linked itself: what links it gets Python's link inputs.
  if(type STREQUAL "STATIC_LIBRARY")
    set(link_scope INTERFACE)
    set(include_scope PUBLIC)
  else()
    set(link_scope PRIVATE)
    set(include_scope PRIVATE)
  endif()
  target_include_directories(${target} ${include_scope} "${root}/python/${include_dir}"
                             "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/include")
  target_link_options(${target} ${link_scope} "@${out}/link.rsp")
  if(type MATCHES "^(SHARED|MODULE)_LIBRARY$" AND NOT APPLE AND NOT WIN32)
    # The library's Python binds to itself (never to another libpython in the process), which also lets
    # objects compiled as position-independent executables (PBS's and relink's) link into a shared object.
    target_link_options(${target} PRIVATE "-Wl,-Bsymbolic")
  endif()
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${out}/link.rsp")
  if(lto AND CMAKE_${language}_COMPILER_ID MATCHES "Clang")
    # LLVM bitcode: ThinLTO at link time (lld), with a cache so relinks after a source edit are fast.
    target_link_options(${target} ${link_scope} -flto=thin "-Wl,--thinlto-cache-dir=${out}/thinlto-cache")
  endif()
  set_target_properties(${target} PROPERTIES RELINK_PLAN "${out}/plan.json"
                        RELINK_PYTHON_DIR "${root}/python" RELINK_PYTHON_HOME "${root}/python/install")

  if(NOT arg_STDLIB STREQUAL "NONE")
    string(REPLACE "." "" nodot "${version}")
    set(zip "${out}/python${nodot}.zip")
    _relink_run("${caller}" stdlib_written stdlib "${arg_DISTRIBUTION}" --extensions "${arg_EXTENSIONS}"
                --modules "${arg_STDLIB}" -o "${zip}")
    set_target_properties(${target} PROPERTIES RELINK_STDLIB_ZIP "${zip}")
    if(NOT type STREQUAL "STATIC_LIBRARY")
      add_custom_command(TARGET ${target} POST_BUILD
                         COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${zip}" "$<TARGET_FILE_DIR:${target}>"
                         VERBATIM)
    endif()
  endif()
  if(EXISTS "${arg_DISTRIBUTION}" AND NOT IS_DIRECTORY "${arg_DISTRIBUTION}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${arg_DISTRIBUTION}")
  endif()
endfunction()

# relink_add_python_executable(TARGET <name> SOURCES <source>... DISTRIBUTION <path> [EXTENSIONS <spec>]
#                              [STDLIB full|<modules>|NONE] [EXPORT_DYNAMIC] [NO_COPYLEFT] [NO_LIBRARIES])
# add_executable(<name> SOURCES) and relink_target_link_python(<name> ...).
function(relink_add_python_executable)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET" "SOURCES")
  if(NOT arg_TARGET OR NOT arg_SOURCES)
    message(FATAL_ERROR "usage: relink_add_python_executable(TARGET <name> SOURCES <source>... "
                        "DISTRIBUTION <path> [EXTENSIONS <spec>] [STDLIB ...] [EXPORT_DYNAMIC] [NO_COPYLEFT] "
                        "[NO_LIBRARIES])")
  endif()
  add_executable(${arg_TARGET} ${arg_SOURCES})
  relink_target_link_python(${arg_TARGET} ${arg_UNPARSED_ARGUMENTS})
endfunction()
