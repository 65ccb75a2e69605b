from sklambda.cli import run

run()
