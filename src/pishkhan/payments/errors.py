"""The one exception payments refuse with."""


class PaymentError(Exception):
    """A payment operation was refused. code: a stable word (`forbidden`, `not_payable`,
    `nothing_due`, `unknown_payment`, `gateway`); message: a translated sentence a person can act
    on; status: the HTTP status a view answers with."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
        self.status = status
