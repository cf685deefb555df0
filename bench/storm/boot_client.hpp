#pragma once
// One simulated machine's whole boot, as a coroutine: PXE DHCP -> TFTP of the
// iPXE binary -> iPXE's DHCP -> boot.ipxe -> its own script -> kernel and
// initrds -> `booted` -> its config (boot token) -> `ready`, with the retries
// the real firmware, iPXE script and node init do, each bounded.
#include <boost/asio/awaitable.hpp>

#include "dhcp_client.hpp"
#include "storm.hpp"

namespace storm {

boost::asio::awaitable<void> boot_machine(Storm& storm, DhcpPort& dhcp, Machine& m);

}  // namespace storm
