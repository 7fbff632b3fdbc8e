"""The capturing machine's network interfaces (interface-list block): local vs remote.

sinsp uses the interface list for two things, both reproduced here:

* deciding whether an address belongs to this machine (``fd.is_server``, ``fd.lip``,
  ``fd.rip``...): an IPv4 address is local when an interface has exactly that address;
  an IPv6 address when it shares its first 64 bits with an interface address;
* completing a half-known UDP tuple: when a datagram socket's source (or destination)
  address is still zero, it is inferred from the interfaces (same address, else same
  subnet, else the first non-loopback interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from scapkit.scapfile.blockids import FdType
from scapkit.scapfile.snapshot import InterfaceInfo

from .fds import FdInfo

_ZERO4 = bytes(4)
_ZERO16 = bytes(16)
_LOOPBACK4 = IPv4Address("127.0.0.1").packed
_LOOPBACK6 = IPv6Address("::1").packed


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    addr: bytes  # network byte order, 4 or 16 bytes
    netmask: bytes


class NetworkInterfaces:
    """The IPv4 and IPv6 interface addresses, in capture order."""

    def __init__(self, interfaces: list[InterfaceInfo] | None = None) -> None:
        self.ipv4: list[Interface] = []
        self.ipv6: list[Interface] = []
        for i in interfaces or ():
            entry = Interface(i.name, i.addr.packed, i.netmask.packed)
            (self.ipv6 if i.is_ipv6 else self.ipv4).append(entry)

    # -- local or remote ------------------------------------------------------------------

    def is_local_ipv4(self, addr: bytes) -> bool:
        return any(i.addr == addr for i in self.ipv4)

    def is_local_ipv6(self, addr: bytes) -> bool:
        return any(i.addr[:8] == addr[:8] for i in self.ipv6)

    def is_local(self, addr: IPv4Address | IPv6Address | bytes, *, in_container: bool = False,
                 container_ips: frozenset[bytes] = frozenset()) -> bool:
        """Whether ``addr`` is one of this machine's addresses, as sinsp decides it.

        For a thread inside a container, an IPv4 address also matches a known
        container address, and an IPv6 address never matches (sinsp's rule).
        """
        raw = addr if isinstance(addr, bytes) else addr.packed
        if len(raw) == 4:
            if in_container and raw in container_ips:
                return True
            return self.is_local_ipv4(raw)
        if in_container:
            return False
        return self.is_local_ipv6(raw)

    # -- tuple completion -------------------------------------------------------------------

    def _infer_ipv4(self, dest: bytes) -> bytes:
        for i in self.ipv4:
            if i.addr == dest:
                return i.addr
        for i in self.ipv4:
            if _masked(i.addr, i.netmask) == _masked(dest, i.netmask):
                return i.addr
        for i in self.ipv4:
            if i.addr != _LOOPBACK4:
                return i.addr
        return _ZERO4

    def _infer_ipv6(self, dest: bytes) -> bytes:
        for i in self.ipv6:
            if i.addr == dest:
                return i.addr
        for i in self.ipv6:
            if i.addr[:8] == dest[:8]:
                return i.addr
        for i in self.ipv6:
            if i.addr != _LOOPBACK6:
                return i.addr
        return _ZERO16

    def complete_tuple(self, fd: FdInfo) -> None:
        """Fill a zero source or destination address of an IP socket (sinsp's ``update_fd``)."""
        s = fd.sock
        if fd.type == FdType.IPV4_SOCK:
            sip, dip = s.v4_sip, s.v4_dip
            if sip != _ZERO4 and dip != _ZERO4:
                return
            if sip == _ZERO4:
                new = self._infer_ipv4(dip)
                if new == dip and s.v4_sport == s.v4_dport:
                    return
                s.v4_sip = new
            else:
                new = self._infer_ipv4(sip)
                if new == sip and s.v4_sport == s.v4_dport:
                    return
                s.v4_dip = new
        elif fd.type == FdType.IPV6_SOCK:
            sip, dip = s.v6_sip, s.v6_dip
            if sip != _ZERO16 and dip != _ZERO16:
                return
            if sip == _ZERO16:
                new = self._infer_ipv6(dip)
                if new == dip and s.v6_sport == s.v6_dport:
                    return
                s.v6_sip = new
            else:
                new = self._infer_ipv6(sip)
                if new == sip and s.v6_sport == s.v6_dport:
                    return
                s.v6_dip = new


def _masked(addr: bytes, mask: bytes) -> bytes:
    return bytes(a & m for a, m in zip(addr, mask))
