"""`shieldlab serve`: a local interactive web map over shieldlab.api (needs the `web` extra: fastapi, uvicorn).

    from shieldlab.web.app import create_app
    app = create_app("examples/kozelsk-washington.toml")    # an ASGI app; run it with uvicorn on 127.0.0.1
"""
