"""learnt markers: calibrated_models table and assignments.active_model_id

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00

``assignments.active_model_id`` is added with a plain ALTER TABLE ... ADD COLUMN and
no foreign key on purpose: a foreign key would make Alembic rebuild ``assignments`` on
SQLite (copy, drop, rename), and with ``PRAGMA foreign_keys=ON`` dropping the old table
cascade-deletes every submission and result. The service checks the id instead.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('calibrated_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('rubric_id', sa.String(length=200), nullable=False),
    sa.Column('rubric_version', sa.String(length=50), nullable=False),
    sa.Column('model_key', sa.String(length=100), nullable=False),
    sa.Column('n_essays', sa.Integer(), nullable=False),
    sa.Column('model_file', sa.LargeBinary(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('use_learnt', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_calibrated_models_assignment_id_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['teachers.id'], name=op.f('fk_calibrated_models_created_by_teachers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibrated_models'))
    )
    op.create_index(op.f('ix_calibrated_models_assignment_id'), 'calibrated_models', ['assignment_id'], unique=False)
    # Plain ADD COLUMN (never a table rebuild; see the module docstring).
    op.add_column('assignments', sa.Column('active_model_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place; older SQLite would need a rebuild (see above),
    # so turn foreign keys off before downgrading there.
    op.drop_column('assignments', 'active_model_id')
    op.drop_index(op.f('ix_calibrated_models_assignment_id'), table_name='calibrated_models')
    op.drop_table('calibrated_models')
