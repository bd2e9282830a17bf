if __name__ == "__main__":
    # imported inside the guard: helper processes import this module as __mp_main__ and
    # need none of the command line (Hydra and its config)
    from custseg.cli import main

    main()
