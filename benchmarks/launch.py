"""The `cyclonediff` command for the benchmarks: in one process, or under `accelerate launch` on several GPUs."""
import socket, sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cyclonediff_cmd(processes: int = 1) -> list:
    "`python -m cyclonediff.cli`, under `accelerate launch --multi_gpu` (the config decides the precision) for > 1."
    if processes <= 1: return [sys.executable, '-m', 'cyclonediff.cli']
    return [sys.executable, '-m', 'accelerate.commands.launch', '--multi_gpu', '--num_processes', str(processes),
            '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
            '--main_process_port', str(free_port()), '-m', 'cyclonediff.cli']
