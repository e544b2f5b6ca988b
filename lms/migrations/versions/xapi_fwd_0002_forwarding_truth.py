"""xapi forwarding: last failure status (a 401/403 from the remote reads as "credentials refused")

Revision ID: xapi_fwd_0002
Revises: xapi_0002
Create Date: 2026-12-03 18:23:50.009440

"""
from alembic import op
import sqlalchemy as sa

import lms.core.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = 'xapi_fwd_0002'
down_revision = 'xapi_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('xapi_forward_destinations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_failure_status', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('xapi_forward_destinations', schema=None) as batch_op:
        batch_op.drop_column('last_failure_status')
