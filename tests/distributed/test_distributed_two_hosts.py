"""Two "hosts" on one machine: two network namespaces joined by a veth pair, Open MPI's TCP transport between
them, and an rsh agent that enters the other namespace (and a UTS namespace with its own host name) instead of
ssh. The DDP equality check of test_distributed_jobs runs across them. Skipped, with the reason printed, where
the kernel or the user may not create namespaces (not root, no `ip`/`unshare`, a container without CAP_NET_ADMIN).
"""
import os
import shutil
import socket
import subprocess
import sys

import pytest

from gdcore.launch import find_mpiexec
from mpi_jobs import WORKERS, assert_all_ok, requires_mpi

pytestmark = requires_mpi


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@pytest.fixture
def two_namespaces():
    """(namespace A, namespace B, address of B, subnet): a veth pair between two fresh network namespaces."""
    missing = [tool for tool in ("ip", "unshare") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        reason = f"needs root and {', '.join(missing)}" if missing else "needs root to create network namespaces"
        print(f"two-host test skipped: {reason}")
        pytest.skip(reason)
    tag = str(os.getpid() % 100000)
    a, b = f"gdcA{tag}", f"gdcB{tag}"
    octet = os.getpid() % 200 + 20
    subnet, addr_a, addr_b = f"10.231.{octet}.0/24", f"10.231.{octet}.1", f"10.231.{octet}.2"
    created = []
    try:
        for ns in (a, b):
            _ip("netns", "add", ns)
            created.append(ns)
        _ip("link", "add", f"v{a}", "type", "veth", "peer", "name", f"v{b}")
        for ns, addr in ((a, addr_a), (b, addr_b)):
            _ip("link", "set", f"v{ns}", "netns", ns)
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", f"v{ns}")
            _ip("-n", ns, "link", "set", f"v{ns}", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, OSError) as err:
        for ns in created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        reason = f"the kernel refused network namespaces: {getattr(err, 'stderr', '') or err}".strip()
        print(f"two-host test skipped: {reason}")
        pytest.skip(reason)
    try:
        yield a, b, addr_b, subnet
    finally:
        for ns in created:                 # deleting a namespace deletes its end of the veth pair, and the pair
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def test_ddp_over_tcp_between_two_network_namespaces(two_namespaces, tmp_path):
    a, b, addr_b, subnet = two_namespaces
    agent = tmp_path / "netns_agent.sh"
    agent.write_text("#!/bin/sh\n# rsh agent: run the command on 'host' $1 by entering its namespace\n"
                     f'host="$1"; shift\nif [ "$host" = "{addr_b}" ]; then\n'
                     f'  exec ip netns exec {b} unshare --uts sh -c "hostname gdcore-host-b; $*"\nfi\n'
                     f'exec ip netns exec {a} sh -c "$*"\n')
    agent.chmod(0o755)
    hostfile = tmp_path / "hosts"
    hostfile.write_text(f"{socket.gethostname()} slots=1\n{addr_b} slots=1\n")
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_pml": "ob1", "OMPI_MCA_btl": "self,tcp", "OMPI_MCA_btl_tcp_if_include": subnet,
           "OMPI_MCA_oob_tcp_if_include": subnet, "PRTE_MCA_plm_ssh_agent": str(agent), "OPENBLAS_NUM_THREADS": "1"}
    argv = ["ip", "netns", "exec", a, find_mpiexec(), "--hostfile", str(hostfile), "-n", "2",
            sys.executable, os.path.join(WORKERS, "ddp_equivalence.py")]
    job = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=90, start_new_session=True)
    assert_all_ok(job, 2)
    namespaces = {line.split()[2] for line in job.stdout.splitlines() if line.startswith("netns ")}
    assert len(namespaces) == 2, f"both ranks ran in one network namespace: {job.stdout}"
