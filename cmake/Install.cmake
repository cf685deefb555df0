# `cmake --install build [--prefix P]`: the binary, the systemd unit and a
# default config (docs/operations.md, "Daemon"). Destinations are relative to
# the prefix given at install time; the unit's paths are rewritten then, so
# the installed unit names the installed binary and config directory.
include(GNUInstallDirs)
set(RAMFLEET_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
    "where ramfleet.service goes (relative to the prefix, or absolute)")

install(TARGETS ramfleet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The static stage-1 fetcher sits beside ramfleet: `lab up --stage1 stream`
# packs it into the stage-1 initrd from there (docs/images.md).
if(TARGET ramfleet-stage1)
  install(TARGETS ramfleet-stage1 RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(CODE "
  set(RAMFLEET_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(RAMFLEET_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(RAMFLEET_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(RAMFLEET_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  set(RAMFLEET_UNITDIR \"${RAMFLEET_SYSTEMD_UNITDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install_dist.cmake\")
")
