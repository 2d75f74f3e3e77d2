"""Runtime code of notis, packaged to Lambda by Chalice. Pure modules take plain values and injected clients."""
