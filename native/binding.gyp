{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["peercred.c", "spawn.c", "run.c", "throw.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
