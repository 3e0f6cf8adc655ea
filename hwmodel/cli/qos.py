"""`hwmodel qos CONFIG.yaml PACKETS | --gen`: run VM traffic through the SNIC's link scheduler (S4)."""
from __future__ import annotations

import json


def cmd_qos(args):
    from ..core.linksched import generate_packets, load_qos_config, read_packets, run_qos, write_packets
    snic, manager, gen = load_qos_config(args.config)
    if args.gen == (args.packets is not None):
        raise ValueError("qos: give either a PACKETS trace or --gen (not both)" if args.gen
                         else "qos: give a PACKETS trace or --gen")
    if args.gen:
        kw = {"link": snic.scheduler.bandwidth, **gen}
        if args.seed is not None:
            kw["seed"] = args.seed
        if args.duration is not None:
            kw["duration"] = args.duration
        batch = int(kw.get("batch_vms", 1))
        if batch + 1 > len(snic.vms):
            raise ValueError(f"generator.batch_vms: {batch} batch VMs + 1 critical VM, but the config has "
                             f"{len(snic.vms)} VMs")
        try:
            packets = generate_packets(**kw)
        except TypeError as e:
            raise ValueError(f"generator: {e}") from None
        if args.save_packets:
            write_packets(args.save_packets, *packets)
    else:
        packets = read_packets(args.packets)
    r = run_qos(snic, packets, manager, backend=args.backend)
    if args.json == "-":      # stdout carries the JSON alone, for a pipe
        print(json.dumps(r.to_dict(), indent=2))
        return 0
    print(f"{snic.scheduler.discipline} on {snic.scheduler.bandwidth}, {len(packets[0]):,} packets, "
          f"{len(snic.vms)} VMs")
    print(r.summary())
    if args.json:
        with open(args.json, "w") as f:
            f.write(json.dumps(r.to_dict(), indent=2))
    return 0


def add_commands(subparsers) -> None:
    q = subparsers.add_parser("qos", help="VM network QoS: SNIC queues, link scheduler, SLA changes",
                              description="Run a packet trace (text 'time_ns vm bytes' lines, or .npz with "
                                          "arrays time/vm/bytes) or a generated mix through the SNIC and "
                                          "link scheduler of CONFIG.yaml; print per-VM latency and use. "
                                          "CONFIG.yaml's sections (scheduler, vms, snic, manager, generator) "
                                          "are in docs/configuration.md.")
    q.add_argument("config", metavar="CONFIG.yaml")
    q.add_argument("packets", nargs="?", metavar="PACKETS")
    q.add_argument("--gen", action="store_true",
                   help="generate a seeded mix (VM 0 latency-critical, VMs 1.. batch; see generator:)")
    q.add_argument("--seed", type=int, help="generator seed (default: generator.seed or 0)")
    q.add_argument("--duration", help="generated traffic duration, e.g. 2ms")
    q.add_argument("--save-packets", metavar="FILE", help="write the generated packets (.txt or .npz)")
    q.add_argument("--json", metavar="OUT", help="write per-VM stats and management responses (- for stdout: "
                                                 "the JSON alone, without the summary)")
    q.add_argument("--backend", choices=("compiled", "reference"), default=None)
    q.set_defaults(func=cmd_qos)
