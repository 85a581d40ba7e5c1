{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["peercred.c", "spawn.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
