# relink's CMake package: embed a relinked CPython (libpython + chosen extension modules from a
# python-build-standalone full archive) in a C or C++ executable.
#
#   find_package(Relink CONFIG REQUIRED)
#   relink_add_python_executable(TARGET app SOURCES main.c
#                                DISTRIBUTION /path/to/cpython-…-full.tar.zst
#                                EXTENSIONS "minimal,+_json,+math")
#   relink_python_home(home DISTRIBUTION /path/to/cpython-…-full.tar.zst)
#   target_compile_definitions(app PRIVATE "APP_PYTHON_HOME=\"${home}\"")
#
# At configure time relink runs the toolchain gate for the C compiler, selects the extensions and writes
# config.c, config.o and a response file (`relink generate --format rsp`); the target links the user's
# sources, config.o and every object and library of the plan through that response file, which keeps
# relink's link order (static libraries grouped, system libraries after them) that CMake's own
# dependency ordering would not. RELINK_COMMAND (a ;-list) selects the relink to run.
include_guard(GLOBAL)
cmake_minimum_required(VERSION 3.20)  # string(JSON)

# The relink command: the one installed beside this file (a wheel in <prefix>/lib/pythonX.Y/site-packages
# or <prefix>/Lib/site-packages on Windows), else `python -m relink` for the Python that
# scikit-build-core or FindPython found, else `relink` on PATH.
if(NOT RELINK_COMMAND)
  get_filename_component(_relink_posix_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../../../.." ABSOLUTE)
  get_filename_component(_relink_windows_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../../.." ABSOLUTE)
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
# relink's cache): the value for PyConfig.home, whose lib/pythonX.Y is the stdlib.
function(relink_python_home variable)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "DISTRIBUTION" "")
  if(NOT arg_DISTRIBUTION OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "usage: relink_python_home(<variable> DISTRIBUTION <path>)")
  endif()
  _relink_run(relink_python_home root extract "${arg_DISTRIBUTION}" --print-path)
  set(${variable} "${root}/python/install" PARENT_SCOPE)
endfunction()

# relink_add_python_executable(TARGET <name> SOURCES <source>... DISTRIBUTION <path>
#                              [EXTENSIONS <spec>] [EXPORT_DYNAMIC] [NO_COPYLEFT] [NO_LIBRARIES])
# Adds executable <name> from SOURCES with <Python.h> on its include path, linked with the CPython of
# DISTRIBUTION (a full archive or extracted folder) and the extensions of <spec> (relink's syntax, e.g.
# "minimal,+_json,+math"; default "default"). Sets the target properties RELINK_PLAN (plan.json: what is
# linked and why), RELINK_PYTHON_DIR (the distribution's python/ folder) and RELINK_PYTHON_HOME.
function(relink_add_python_executable)
  cmake_parse_arguments(PARSE_ARGV 0 arg "EXPORT_DYNAMIC;NO_COPYLEFT;NO_LIBRARIES" "TARGET;DISTRIBUTION;EXTENSIONS"
                        "SOURCES")
  if(NOT arg_TARGET OR NOT arg_DISTRIBUTION OR NOT arg_SOURCES OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "usage: relink_add_python_executable(TARGET <name> SOURCES <source>... "
                        "DISTRIBUTION <path> [EXTENSIONS <spec>] [EXPORT_DYNAMIC] [NO_COPYLEFT] [NO_LIBRARIES])"
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_EXTENSIONS)
    set(arg_EXTENSIONS default)
  endif()
  set(caller "relink_add_python_executable(${arg_TARGET})")
  set(out "${CMAKE_CURRENT_BINARY_DIR}/relink/${arg_TARGET}")
  set(options --extensions "${arg_EXTENSIONS}" --format rsp)
  foreach(flag EXPORT_DYNAMIC NO_COPYLEFT NO_LIBRARIES)
    if(arg_${flag})
      string(TOLOWER "--${flag}" option)
      string(REPLACE "_" "-" option "${option}")
      list(APPEND options "${option}")
    endif()
  endforeach()
  # The gate checks, and config.c is compiled by, the compiler that links the executable.
  if(CMAKE_C_COMPILER)
    list(APPEND options --cc "${CMAKE_C_COMPILER}")
  endif()
  _relink_run("${caller}" written generate "${arg_DISTRIBUTION}" -o "${out}" ${options})
  _relink_run("${caller}" root extract "${arg_DISTRIBUTION}" --print-path)
  file(READ "${out}/plan.json" plan)
  string(JSON include_dir GET "${plan}" include_dir)
  string(JSON lto GET "${plan}" lto)

  add_executable(${arg_TARGET} ${arg_SOURCES})
  target_include_directories(${arg_TARGET} PRIVATE "${root}/python/${include_dir}")
  target_link_options(${arg_TARGET} PRIVATE "@${out}/link.rsp")
  set_property(TARGET ${arg_TARGET} APPEND PROPERTY LINK_DEPENDS "${out}/link.rsp")
  if(lto AND CMAKE_C_COMPILER_ID MATCHES "Clang")
    # LLVM bitcode: ThinLTO at link time (lld), with a cache so relinks after a source edit are fast.
    target_link_options(${arg_TARGET} PRIVATE -flto=thin "-Wl,--thinlto-cache-dir=${out}/thinlto-cache")
  endif()
  set_target_properties(${arg_TARGET} PROPERTIES RELINK_PLAN "${out}/plan.json"
                        RELINK_PYTHON_DIR "${root}/python" RELINK_PYTHON_HOME "${root}/python/install")
  if(EXISTS "${arg_DISTRIBUTION}" AND NOT IS_DIRECTORY "${arg_DISTRIBUTION}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${arg_DISTRIBUTION}")
  endif()
endfunction()
