{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["peercred.c", "spawn.c", "run.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
