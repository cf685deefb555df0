# Runs at install time (cmake/Install.cmake): CMAKE_INSTALL_PREFIX is the
# --prefix given then. Writes <unitdir>/ramfleet.service with its paths made
# absolute for this prefix, and <sysconfdir>/ramfleet/ramfleet.yaml unless the
# operator already has one (an install never overwrites a config).
function(_ramfleet_full out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

_ramfleet_full(_bin "${RAMFLEET_BINDIR}")
_ramfleet_full(_etc "${RAMFLEET_SYSCONFDIR}")
_ramfleet_full(_doc "${RAMFLEET_DOCDIR}")
_ramfleet_full(_units "${RAMFLEET_UNITDIR}")
# GNU convention: the /usr prefix keeps its config in /etc.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND RAMFLEET_SYSCONFDIR STREQUAL "etc")
  set(_etc "/etc")
endif()

file(READ "${RAMFLEET_SOURCE_DIR}/dist/ramfleet.service" _unit)
string(REPLACE "/usr/local/bin/ramfleet" "${_bin}/ramfleet" _unit "${_unit}")
string(REPLACE "/usr/local/etc/ramfleet" "${_etc}/ramfleet" _unit "${_unit}")
string(REPLACE "/usr/local/share/doc/ramfleet" "${_doc}" _unit "${_unit}")
set(_unit_file "$ENV{DESTDIR}${_units}/ramfleet.service")
message(STATUS "Installing: ${_unit_file}")
file(WRITE "${_unit_file}" "${_unit}")

set(_config "$ENV{DESTDIR}${_etc}/ramfleet/ramfleet.yaml")
if(EXISTS "${_config}")
  message(STATUS "Keeping: ${_config} (an install never overwrites a config)")
else()
  message(STATUS "Installing: ${_config}")
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${_etc}/ramfleet")
  file(COPY_FILE "${RAMFLEET_SOURCE_DIR}/dist/ramfleet.yaml" "${_config}")
endif()
